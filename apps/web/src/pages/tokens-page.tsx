import {
  ActionIcon,
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { CreatedToken, Token } from '@syncengine/contracts';
import { CreateTokenSchema } from '@syncengine/contracts';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../api/client.js';
import { useCreateToken, useDeleteToken, useTokens } from '../api/hooks.js';
import { EmptyState, ErrorState, LoadingState } from '../components/state-views.js';
import { formatTime } from '../lib/format.js';

export function TokensPage() {
  const tokens = useTokens();
  const create = useCreateToken();
  const remove = useDeleteToken();
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [toDelete, setToDelete] = useState<Token | null>(null);

  const onCreate = (event: FormEvent) => {
    event.preventDefault();
    const parsed = CreateTokenSchema.safeParse({ name });
    if (!parsed.success) {
      setNameError('Give the token a name, e.g. the script or machine that will use it.');
      return;
    }
    setNameError(null);
    create.mutate(parsed.data.name, {
      onSuccess: (token) => {
        setCreated(token);
        setName('');
      },
    });
  };

  return (
    <Stack>
      <Title order={1} size="h2">
        API tokens
      </Title>
      <Text c="dimmed" size="sm">
        Scripts and the command line use a token as <Code>Authorization: Bearer &lt;token&gt;</Code>. A token
        is shown only once, when it is created.
      </Text>
      <form onSubmit={onCreate} noValidate>
        <Group align="flex-start">
          <TextInput
            label="New token name"
            placeholder="backup-script"
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={nameError ?? (create.error ? errorMessage(create.error) : undefined)}
            style={{ flex: 1, minWidth: 200 }}
          />
          <Button type="submit" mt={25} loading={create.isPending}>
            Create token
          </Button>
        </Group>
      </form>
      {created && (
        <Alert color="green" title={`Token “${created.name}” created`} role="status">
          <Stack gap="xs">
            <Text size="sm">Copy it now: it will not be shown again.</Text>
            <Group gap="xs" wrap="nowrap">
              <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid="new-token">
                {created.token}
              </Code>
              <CopyButton value={created.token}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="light" onClick={copy}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        </Alert>
      )}
      {tokens.isPending ? (
        <LoadingState label="Loading tokens…" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => tokens.refetch()} />
      ) : tokens.data.items.length === 0 ? (
        <EmptyState title="No API tokens yet">
          Create one above for each script or machine that talks to the API.
        </EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Created</Table.Th>
                <Table.Th scope="col">Last used</Table.Th>
                <Table.Th scope="col">
                  <span className="visually-hidden">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tokens.data.items.map((token) => (
                <Table.Tr key={token.id}>
                  <Table.Td>{token.name}</Table.Td>
                  <Table.Td>{formatTime(token.createdAt)}</Table.Td>
                  <Table.Td>{token.lastUsedAt ? formatTime(token.lastUsedAt) : 'Never'}</Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Revoke token ${token.name}`}
                      onClick={() => setToDelete(token)}
                    >
                      ✕
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={toDelete !== null} onClose={() => setToDelete(null)} title="Revoke this token?">
        <Stack>
          <Text size="sm">
            Anything using “{toDelete?.name}” will stop working at once. This cannot be undone.
          </Text>
          {remove.error && (
            <Text c="red" size="sm">
              {errorMessage(remove.error)}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setToDelete(null)}>
              Keep it
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() => toDelete && remove.mutate(toDelete.id, { onSuccess: () => setToDelete(null) })}
            >
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
