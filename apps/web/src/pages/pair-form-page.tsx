import {
  Alert,
  Badge,
  Button,
  Fieldset,
  Group,
  Modal,
  NumberInput,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import type { Pair } from '@syncengine/contracts';
import { WATCH_SETTING_LIMITS } from '@syncengine/contracts';
import { type FormEvent, useMemo, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { ApiError, errorMessage } from '../api/client.js';
import { useDeletePair, usePair, useSavePair } from '../api/hooks.js';
import { LocationEditor } from '../components/location-editor.js';
import { ErrorState, LoadingState } from '../components/state-views.js';
import { COMPARISON_MODE_INFO, CONFLICT_STRATEGY_INFO, optionsOf, SYNC_MODE_INFO } from '../lib/actions.js';
import { formatTime } from '../lib/format.js';
import { patternLines, testIgnoredPath } from '../lib/ignore-test.js';
import { locationKinds } from '../lib/location-form.js';
import {
  emptyPairForm,
  type FieldErrors,
  type PairFormValues,
  pairToForm,
  serverErrorToFieldErrors,
  validatePairForm,
} from '../lib/pair-form.js';
import { describeSchedule } from '../lib/schedule.js';

/** The one message above a form whose fields have errors; each field says what is wrong. */
const FIELDS_NEED_ATTENTION = 'Some fields need attention: see the messages below each one.';

/** Create (`/pairs/new`) or edit (`/pairs/:id/edit`) a pair. */
export function PairFormPage() {
  const { id } = useParams();
  const pair = usePair(id);
  if (!id) return <PairForm />;
  if (pair.isPending) return <LoadingState label="Loading the pair…" />;
  if (pair.isError)
    return <ErrorState error={pair.error} onRetry={() => pair.refetch()} title="Could not load the pair" />;
  return <PairForm pair={pair.data} key={pair.data.id} />;
}

function PairForm({ pair }: { pair?: Pair }) {
  const kinds = useMemo(() => locationKinds(), []);
  const navigate = useNavigate();
  const save = useSavePair(pair?.id);
  const remove = useDeletePair();
  const [values, setValues] = useState<PairFormValues>(() =>
    pair ? pairToForm(pair, kinds) : emptyPairForm(kinds),
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [isConfirmingDelete, setConfirmingDelete] = useState(false);
  const [hasMissingFolders, setMissingFolders] = useState(false);
  const [testPath, setTestPath] = useState('');

  const set = <K extends keyof PairFormValues>(key: K, value: PairFormValues[K]) =>
    setValues((current) => ({ ...current, [key]: value }));

  const schedule = describeSchedule(values.schedule);
  const verdict = testIgnoredPath(patternLines(values.ignorePatterns), testPath);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    const result = validatePairForm(values, kinds);
    if (!result.ok) {
      setErrors(result.errors);
      setFormError(FIELDS_NEED_ATTENTION);
      focusFirstError(result.errors);
      return;
    }
    setErrors({});
    submit(result.body, false);
  };

  /** Saves; a refusal naming fields is shown beside them, in the same words as the form's own checks. */
  const submit = (body: Parameters<typeof save.mutate>[0]['body'], createFolders: boolean) => {
    setMissingFolders(false);
    save.mutate(
      { body, createFolders },
      {
        onSuccess: (saved) => navigate(`/pairs/${saved.id}`),
        onError: (error) => {
          const fieldErrors = error instanceof ApiError ? serverErrorToFieldErrors(error.body) : {};
          setErrors(fieldErrors);
          if (Object.keys(fieldErrors).length > 0) {
            focusFirstError(fieldErrors);
            setFormError(FIELDS_NEED_ATTENTION);
            setMissingFolders(Object.values(fieldErrors).some((message) => / does not exist$/.test(message)));
          } else {
            setFormError(errorMessage(error));
          }
        },
      },
    );
  };
  const createMissingFolders = () => {
    const result = validatePairForm(values, kinds);
    if (result.ok) submit(result.body, true);
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="pair-form-title">
      <Stack maw={900}>
        <Title order={1} size="h2" id="pair-form-title">
          {pair ? `Edit “${pair.name}”` : 'New sync pair'}
        </Title>
        {formError && (
          <Alert color="red" role="alert" title="The pair was not saved">
            <Stack gap="xs" align="flex-start">
              <Text size="sm">{formError}</Text>
              {hasMissingFolders && (
                <Button size="xs" variant="light" onClick={createMissingFolders} loading={save.isPending}>
                  Create the missing folders and save
                </Button>
              )}
            </Stack>
          </Alert>
        )}
        <TextInput
          id="name"
          label="Name"
          placeholder="e.g. Photos backup"
          value={values.name}
          onChange={(event) => set('name', event.currentTarget.value)}
          error={errors.name}
          required
        />
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <LocationEditor
            legend="Source"
            name="source"
            kinds={kinds}
            value={values.source}
            onChange={(value) => set('source', value)}
            errors={errors}
            savedSecrets={pair?.source.secretsSet ?? []}
          />
          <LocationEditor
            legend="Destination"
            name="destination"
            kinds={kinds}
            value={values.destination}
            onChange={(value) => set('destination', value)}
            errors={errors}
            savedSecrets={pair?.destination.secretsSet ?? []}
          />
        </SimpleGrid>

        <Radio.Group
          label="Sync mode"
          value={values.mode}
          onChange={(value) => set('mode', value as PairFormValues['mode'])}
          error={errors.mode}
        >
          <Stack gap="xs" mt="xs">
            {optionsOf(SYNC_MODE_INFO).map((option) => (
              <Radio
                key={option.value}
                value={option.value}
                label={option.label}
                description={SYNC_MODE_INFO[option.value].description}
              />
            ))}
          </Stack>
        </Radio.Group>

        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Compare files by"
            data={optionsOf(COMPARISON_MODE_INFO)}
            value={values.comparisonMode}
            allowDeselect={false}
            onChange={(value) => value && set('comparisonMode', value as PairFormValues['comparisonMode'])}
            description={COMPARISON_MODE_INFO[values.comparisonMode].description}
            error={errors.comparisonMode}
          />
          <Select
            label="When both sides changed"
            data={optionsOf(CONFLICT_STRATEGY_INFO)}
            value={values.conflictResolution}
            allowDeselect={false}
            onChange={(value) =>
              value && set('conflictResolution', value as PairFormValues['conflictResolution'])
            }
            description={CONFLICT_STRATEGY_INFO[values.conflictResolution].description}
            error={errors.conflictResolution}
          />
        </SimpleGrid>

        <Fieldset legend="Ignore patterns">
          <Stack gap="sm">
            <Textarea
              id="ignorePatterns"
              label="Patterns (gitignore syntax, one per line)"
              description="e.g. *.tmp, /build/, **/node_modules/, !keep.log. .syncignore files in the source folders apply too."
              placeholder={'*.tmp\n**/node_modules/'}
              autosize
              minRows={3}
              value={values.ignorePatterns}
              onChange={(event) => set('ignorePatterns', event.currentTarget.value)}
              error={errors.ignorePatterns}
              styles={{ input: { fontFamily: 'monospace' } }}
              spellCheck={false}
            />
            <TextInput
              label="Test a path"
              description="A path relative to the pair’s root; end it with / for a folder."
              placeholder="photos/tmp/file.tmp"
              value={testPath}
              onChange={(event) => setTestPath(event.currentTarget.value)}
              spellCheck={false}
              aria-describedby="ignore-verdict"
            />
            <Text size="sm" id="ignore-verdict" role="status" aria-live="polite">
              {verdict.kind === 'ignored' && <Badge color="orange">Ignored: never scanned or changed</Badge>}
              {verdict.kind === 'included' && <Badge color="green">Synced</Badge>}
              {verdict.kind === 'invalid' && (
                <Text span c="red" size="sm">
                  {verdict.message}
                </Text>
              )}
            </Text>
          </Stack>
        </Fieldset>

        <Fieldset legend="Limits">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              clampBehavior="none"
              id="concurrency.transfers"
              label="Transfers at once"
              min={1}
              max={64}
              value={values.transfers}
              onChange={(value) => set('transfers', value)}
              error={errors['concurrency.transfers']}
            />
            <NumberInput
              clampBehavior="none"
              id="concurrency.operations"
              label="Other operations at once"
              min={1}
              max={256}
              value={values.operations}
              onChange={(value) => set('operations', value)}
              error={errors['concurrency.operations']}
            />
            <NumberInput
              clampBehavior="none"
              id="maxDeletePercent"
              label="Max. deletions (%)"
              description="A run that would delete more stops first."
              min={0}
              max={100}
              value={values.maxDeletePercent}
              onChange={(value) => set('maxDeletePercent', value)}
              error={errors.maxDeletePercent}
            />
            <NumberInput
              clampBehavior="none"
              id="bandwidthLimit"
              label="Bandwidth limit (KiB/s)"
              description="All transfers of a run together. Empty: no limit."
              placeholder="No limit"
              min={1}
              value={values.bandwidthLimitKiB}
              onChange={(value) => set('bandwidthLimitKiB', value)}
              error={errors.bandwidthLimit}
            />
          </SimpleGrid>
        </Fieldset>

        <TextInput
          id="schedule"
          label="Schedule (cron)"
          description="Leave empty to run only when you press Run now. Five fields: minute hour day month weekday."
          placeholder="0 * * * *"
          value={values.schedule}
          onChange={(event) => set('schedule', event.currentTarget.value)}
          error={errors.schedule ?? (schedule.kind === 'invalid' ? schedule.message : undefined)}
          spellCheck={false}
          aria-describedby="schedule-preview"
        />
        <Text size="sm" c="dimmed" id="schedule-preview" aria-live="polite" data-testid="schedule-preview">
          {schedule.kind === 'valid'
            ? `${schedule.description}${schedule.nextRun ? ` — next run ${formatTime(schedule.nextRun.getTime())}` : ''}`
            : schedule.kind === 'none'
              ? 'No schedule: manual runs only.'
              : ''}
        </Text>

        <Switch
          label="Enabled (scheduled runs happen only while enabled)"
          checked={values.enabled}
          onChange={(event) => set('enabled', event.currentTarget.checked)}
        />

        <LiveSyncFields values={values} errors={errors} set={set} />

        <Group justify="space-between" mt="md">
          <Group>
            <Button type="submit" loading={save.isPending}>
              {pair ? 'Save changes' : 'Create pair'}
            </Button>
            <Button variant="default" onClick={() => navigate(pair ? `/pairs/${pair.id}` : '/pairs')}>
              Cancel
            </Button>
          </Group>
          {pair && (
            <Button color="red" variant="light" onClick={() => setConfirmingDelete(true)}>
              Delete pair
            </Button>
          )}
        </Group>
      </Stack>
      {pair && (
        <Modal
          opened={isConfirmingDelete}
          onClose={() => setConfirmingDelete(false)}
          title={`Delete “${pair.name}”?`}
        >
          <Stack>
            <Text size="sm">
              The pair, its history and its sync state are removed. The files in both folders are not touched.
            </Text>
            {remove.error && (
              <Text c="red" size="sm" role="alert">
                {errorMessage(remove.error)}
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirmingDelete(false)}>
                Keep it
              </Button>
              <Button
                color="red"
                loading={remove.isPending}
                onClick={() => remove.mutate(pair.id, { onSuccess: () => navigate('/pairs') })}
              >
                Delete
              </Button>
            </Group>
          </Stack>
        </Modal>
      )}
    </form>
  );
}

/** What one poll of each remote side costs (README: watched pairs). */
const POLL_COST: Record<string, string> = {
  s3: 'on S3, one paid LIST request per 1 000 objects',
  webdav: 'on WebDAV, one PROPFIND of the tree (one per folder where the server refuses that)',
  sftp: 'on SFTP, one directory listing per folder',
};

/** What polling costs for this pair's sides, in one sentence. */
function pollCostText(values: PairFormValues): string {
  const costs = [...new Set([values.source.type, values.destination.type])]
    .map((type) => POLL_COST[type])
    .filter((cost) => cost !== undefined);
  if (costs.length === 0) {
    return 'Both sides are local folders: they are polled only if their change notifications fail.';
  }
  return `Each poll lists the whole remote folder, nothing downloaded: ${costs.join('; ')}. Raise it for large remote trees.`;
}

/**
 * Live sync (SPEC §12): a watched pair runs on its own after changes. The number inputs
 * stay editable while watching is off, so the settings can be prepared before turning it on.
 */
function LiveSyncFields({
  values,
  errors,
  set,
}: {
  values: PairFormValues;
  errors: FieldErrors;
  set: <K extends keyof PairFormValues>(key: K, value: PairFormValues[K]) => void;
}) {
  return (
    <Fieldset legend="Live sync">
      <Stack gap="sm">
        <Switch
          id="watch.enabled"
          label="Watch both sides and sync changes as they happen"
          description="Local folders are watched through the operating system’s change notifications; SFTP, S3 and WebDAV sides are listed every poll interval. Schedule and Run now keep working."
          checked={values.watchEnabled}
          onChange={(event) => set('watchEnabled', event.currentTarget.checked)}
          error={errors['watch.enabled']}
        />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <NumberInput
            clampBehavior="none"
            allowDecimal={false}
            id="watch.debounceMs"
            label="Quiet time before a run (ms)"
            description="Changes are gathered until none has come for this long, so a burst of saves makes one run (which waits at most ten times this)."
            {...WATCH_SETTING_LIMITS.debounceMs}
            value={values.watchDebounceMs}
            onChange={(value) => set('watchDebounceMs', value)}
            error={errors['watch.debounceMs']}
          />
          <NumberInput
            clampBehavior="none"
            allowDecimal={false}
            id="watch.rescanMinutes"
            label="Full rescan every (minutes)"
            description="A full run compares both whole trees this often, to catch what notifications missed."
            {...WATCH_SETTING_LIMITS.rescanMinutes}
            value={values.watchRescanMinutes}
            onChange={(value) => set('watchRescanMinutes', value)}
            error={errors['watch.rescanMinutes']}
          />
          <NumberInput
            clampBehavior="none"
            allowDecimal={false}
            id="watch.pollSeconds"
            label="Poll remote sides every (s)"
            description={`How often SFTP, S3 and WebDAV sides are listed for changes. ${pollCostText(values)}`}
            {...WATCH_SETTING_LIMITS.pollSeconds}
            value={values.watchPollSeconds}
            onChange={(value) => set('watchPollSeconds', value)}
            error={errors['watch.pollSeconds']}
          />
        </SimpleGrid>
        {!values.watchEnabled && (
          <Text size="sm" c="dimmed">
            Not watched: the pair syncs on its schedule or when you press Run now.
          </Text>
        )}
      </Stack>
    </Fieldset>
  );
}

/** Moves keyboard focus to the first field with an error. */
function focusFirstError(errors: FieldErrors) {
  const first = Object.keys(errors)[0];
  if (!first) return;
  requestAnimationFrame(() => {
    const element = document.getElementById(first.replace('.', '-')) ?? document.getElementById(first);
    element?.focus();
  });
}
