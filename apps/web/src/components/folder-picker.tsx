import { Alert, Button, Group, Modal, ScrollArea, Stack, Text, UnstyledButton } from '@mantine/core';
import { useState } from 'react';
import { errorMessage } from '../api/client.js';
import { useFolders } from '../api/hooks.js';
import { LoadingState } from './state-views.js';

/**
 * Browses the server's folders under the allowed roots (the server confines the listing)
 * and hands back the one chosen. Only folders are shown.
 */
export function FolderPicker({
  label,
  initialPath,
  onPick,
}: {
  /** For the button and the dialog: "Source folder". */
  label: string;
  initialPath: string;
  onPick: (path: string) => void;
}) {
  const [isOpen, setOpen] = useState(false);
  const [path, setPath] = useState<string | undefined>(undefined);
  const listing = useFolders(path, isOpen);

  const open = () => {
    setPath(initialPath.trim() === '' ? undefined : initialPath.trim());
    setOpen(true);
  };

  return (
    <>
      <Button variant="default" onClick={open} aria-label={`Browse for the ${label.toLowerCase()}`}>
        Browse…
      </Button>
      <Modal
        opened={isOpen}
        onClose={() => setOpen(false)}
        title={`Choose the ${label.toLowerCase()}`}
        size="lg"
      >
        <Stack gap="sm">
          <Text size="sm" c="dimmed" style={{ wordBreak: 'break-all' }} data-testid="picker-path">
            {path ?? 'Allowed roots'}
          </Text>
          {listing.isError && (
            <Alert color="red" role="alert" title="This folder cannot be shown">
              <Stack gap="xs" align="flex-start">
                <Text size="sm">{errorMessage(listing.error)}</Text>
                <Button size="xs" variant="light" onClick={() => setPath(undefined)}>
                  Show the allowed roots
                </Button>
              </Stack>
            </Alert>
          )}
          {listing.isPending && !listing.isError ? (
            <LoadingState label="Loading folders…" />
          ) : listing.data ? (
            <>
              <Group gap="xs">
                {listing.data.path !== null && (
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => setPath(listing.data.parent ?? undefined)}
                  >
                    {listing.data.parent ? 'Up one folder' : 'Allowed roots'}
                  </Button>
                )}
              </Group>
              <ScrollArea.Autosize mah={320} type="auto">
                <Stack component="ul" p={0} m={0} style={{ listStyle: 'none' }} gap={2} aria-label="Folders">
                  {listing.data.folders.length === 0 && (
                    <Text size="sm" c="dimmed" component="li">
                      No subfolder here.
                    </Text>
                  )}
                  {listing.data.folders.map((folder) => (
                    <li key={folder.path}>
                      <UnstyledButton
                        onClick={() => setPath(folder.path)}
                        px="sm"
                        py={6}
                        w="100%"
                        style={{ borderRadius: 'var(--mantine-radius-sm)', wordBreak: 'break-all' }}
                        className="folder-row"
                      >
                        {folder.name}
                        <span aria-hidden>/</span>
                      </UnstyledButton>
                    </li>
                  ))}
                  {listing.data.isTruncated && (
                    <Text size="xs" c="dimmed" component="li">
                      More folders exist; type the path to reach one not listed.
                    </Text>
                  )}
                </Stack>
              </ScrollArea.Autosize>
            </>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button
              disabled={!listing.data?.path}
              onClick={() => {
                if (listing.data?.path) onPick(listing.data.path);
                setOpen(false);
              }}
            >
              Use this folder
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
