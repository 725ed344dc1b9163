import {
  Checkbox,
  Fieldset,
  Group,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useFolders } from '../api/hooks.js';
import { emptyLocationValues, type LocationKind, type LocationValues } from '../lib/location-form.js';
import type { FieldErrors } from '../lib/pair-form.js';
import { FolderPicker } from './folder-picker.js';

interface LocationEditorProps {
  legend: string;
  /** Field-path prefix of errors: `source` or `destination`. */
  name: string;
  kinds: LocationKind[];
  value: LocationValues;
  onChange: (value: LocationValues) => void;
  errors: FieldErrors;
  /** Secrets already stored for this location (never sent back by the server). */
  savedSecrets?: readonly string[];
}

/** A location's inputs, generated from its schema: pick the backend, then fill its fields. */
export function LocationEditor({
  legend,
  name,
  kinds,
  value,
  onChange,
  errors,
  savedSecrets = [],
}: LocationEditorProps) {
  const kind = kinds.find((candidate) => candidate.type === value.type) ?? kinds[0];
  const set = (key: string, fieldValue: string | boolean) => onChange({ ...value, [key]: fieldValue });

  return (
    <Fieldset legend={legend}>
      <Stack gap="sm">
        {kinds.length > 1 && (
          <Select
            label="Storage"
            data={kinds.map((candidate) => ({ value: candidate.type, label: candidate.label }))}
            value={value.type}
            allowDeselect={false}
            onChange={(type) => {
              const next = kinds.find((candidate) => candidate.type === type);
              if (next) onChange(emptyLocationValues(next));
            }}
          />
        )}
        {kind?.fields.map((field) => {
          const id = `${name}-${field.key}`;
          const error = errors[`${name}.${field.key}`];
          const label = field.label;
          if (field.kind === 'boolean') {
            return (
              <Checkbox
                key={field.key}
                id={id}
                label={label}
                checked={value[field.key] === true}
                onChange={(event) => set(field.key, event.currentTarget.checked)}
                error={error}
              />
            );
          }
          const text = typeof value[field.key] === 'string' ? (value[field.key] as string) : '';
          if (field.kind === 'number') {
            return (
              <NumberInput
                clampBehavior="none"
                key={field.key}
                id={id}
                label={label}
                value={text}
                onChange={(next) => set(field.key, String(next))}
                error={error}
                required={field.isRequired}
              />
            );
          }
          if (field.isSecret) {
            const isSaved = savedSecrets.includes(field.key);
            if (field.key === 'privateKey') {
              return (
                <Textarea
                  key={field.key}
                  id={id}
                  label={label}
                  description={isSaved ? 'Saved. Leave empty to keep it.' : undefined}
                  value={text}
                  onChange={(event) => set(field.key, event.currentTarget.value)}
                  error={error}
                  autosize
                  minRows={2}
                  styles={{ input: { fontFamily: 'monospace' } }}
                />
              );
            }
            return (
              <PasswordInput
                key={field.key}
                id={id}
                label={label}
                description={isSaved ? 'Saved. Leave empty to keep it.' : undefined}
                value={text}
                onChange={(event) => set(field.key, event.currentTarget.value)}
                error={error}
                autoComplete="new-password"
              />
            );
          }
          if (kind.type === 'local' && field.key === 'path') {
            return (
              <TextInput
                key={field.key}
                id={id}
                label="Folder"
                description={<AllowedRootsHint />}
                placeholder="/home/me/Documents"
                value={text}
                onChange={(event) => set(field.key, event.currentTarget.value)}
                error={error}
                required={field.isRequired}
                spellCheck={false}
                inputContainer={(children) => (
                  <Group gap="xs" wrap="nowrap" align="flex-start">
                    <div style={{ flex: 1, minWidth: 0 }}>{children}</div>
                    <FolderPicker
                      label={`${legend} folder`}
                      initialPath={text}
                      onPick={(path) => set(field.key, path)}
                    />
                  </Group>
                )}
              />
            );
          }
          return (
            <TextInput
              key={field.key}
              id={id}
              label={label}
              placeholder={field.defaultValue !== undefined ? String(field.defaultValue) : undefined}
              value={text}
              onChange={(event) => set(field.key, event.currentTarget.value)}
              error={error}
              required={field.isRequired}
              spellCheck={false}
            />
          );
        })}
        {errors[name] && (
          <div
            role="alert"
            style={{ color: 'var(--mantine-color-error)', fontSize: 'var(--mantine-font-size-sm)' }}
          >
            {errors[name]}
          </div>
        )}
      </Stack>
    </Fieldset>
  );
}

/** Where local folders may lie: the server's allowed roots. */
function AllowedRootsHint() {
  const roots = useFolders(undefined);
  const list = roots.data?.roots.join(', ');
  return list
    ? `A folder on the server, under an allowed root: ${list}.`
    : 'A folder on the server, under one of its allowed roots.';
}
