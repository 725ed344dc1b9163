import { Alert, Button, Center, Group, Loader, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError, errorMessage } from '../api/client.js';

/** Shown while data loads; announced to screen readers. */
export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}</Text>
      </Group>
    </Center>
  );
}

function hintFor(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'Check that the SyncEngine server is running and reachable, then retry.';
    if (error.status === 404) return 'It may have been deleted. Go back to the list and pick another one.';
    if (error.status === 403) return 'Your account is not allowed to do this.';
    if (error.status >= 500) return 'The server hit an error. Retry; if it persists, look at the server log.';
  }
  return 'Retry; if it keeps failing, reload the page.';
}

/** A failed request: what went wrong, what to do, and a retry button. */
export function ErrorState({
  error,
  onRetry,
  title = 'Something went wrong',
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      <Stack gap="xs">
        <Text size="sm">{errorMessage(error)}</Text>
        <Text size="sm" c="dimmed">
          {hintFor(error)}
        </Text>
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              Retry
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

/** Nothing to show yet, with the next step. */
export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <Stack align="center" gap="xs" py="xl" ta="center">
      <Title order={3} size="h4">
        {title}
      </Title>
      {children && (
        <Text c="dimmed" maw={480}>
          {children}
        </Text>
      )}
      {action}
    </Stack>
  );
}
