import { describe, expect, it } from 'vitest';
import { pairFixture } from '../test/fixtures.js';
import { locationKinds } from './location-form.js';
import { emptyPairForm, pairToForm, serverErrorToFieldErrors, validatePairForm } from './pair-form.js';

const kinds = locationKinds();

function validForm() {
  const values = emptyPairForm(kinds);
  values.name = 'Photos';
  values.source = { type: 'local', path: '/data/a' };
  values.destination = { type: 'local', path: '/data/b' };
  return values;
}

describe('locationKinds', () => {
  it('offers the local folder with a required path, read from the shared schema', () => {
    const local = kinds.find((kind) => kind.type === 'local');
    expect(local?.fields).toEqual([
      expect.objectContaining({ key: 'path', kind: 'string', isRequired: true }),
    ]);
  });
});

describe('validatePairForm', () => {
  it('accepts a complete form and builds the API body', () => {
    const values = validForm();
    values.ignorePatterns = '*.tmp\n\nbuild/';
    values.schedule = ' 0 * * * * ';
    const result = validatePairForm(values, kinds);
    expect(result).toEqual({
      ok: true,
      body: expect.objectContaining({
        name: 'Photos',
        source: { type: 'local', path: '/data/a' },
        ignorePatterns: ['*.tmp', 'build/'],
        schedule: '0 * * * *',
        concurrency: { transfers: 5, operations: 10 },
      }),
    });
  });

  it('sends no schedule when the field is empty', () => {
    const result = validatePairForm(validForm(), kinds);
    expect(result.ok && result.body.schedule).toBeNull();
  });

  it('names each invalid field with a plain message', () => {
    const values = validForm();
    values.name = '  ';
    values.source = { type: 'local', path: '' };
    values.transfers = 0;
    values.maxDeletePercent = 150;
    values.schedule = 'every day';
    const result = validatePairForm(values, kinds);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.name).toBe('name must not be empty');
    expect(result.errors['source.path']).toBe('Required');
    expect(result.errors['concurrency.transfers']).toBe('Must be at least 1');
    expect(result.errors.maxDeletePercent).toBe('Must be at most 100');
    expect(result.errors.schedule).toMatch(/cron expression/);
    expect(result.errors.destination).toBeUndefined();
  });

  it('rejects a relative local path with the schema’s message', () => {
    const values = validForm();
    values.destination = { type: 'local', path: 'relative/folder' };
    const result = validatePairForm(values, kinds);
    expect(!result.ok && result.errors['destination.path']).toBe('must be an absolute path');
  });

  it('offers every backend of the shared location union, with secrets as secret inputs', () => {
    const sftp = kinds.find((kind) => kind.type === 'sftp');
    expect(sftp?.fields.find((field) => field.key === 'password')).toMatchObject({
      isSecret: true,
      isRequired: false,
    });
    expect(sftp?.fields.find((field) => field.key === 'port')).toMatchObject({
      kind: 'number',
      defaultValue: 22,
    });
    expect(sftp?.fields.find((field) => field.key === 'host')).toMatchObject({ isRequired: true });
  });

  it('takes the bandwidth limit in KiB/s and sends bytes per second; empty is no limit', () => {
    const values = validForm();
    const sent = (kib: number | string) => {
      values.bandwidthLimitKiB = kib;
      const result = validatePairForm(values, kinds);
      return result.ok ? result.body.bandwidthLimit : result.errors.bandwidthLimit;
    };
    expect(sent('')).toBeNull();
    expect(sent(512)).toBe(512 * 1024);
    expect(sent('1.5')).toBe(1536);
    expect(sent(0.5)).toBe('Enter at least 1 KiB/s and at most 2 GiB/s, or leave it empty for no limit');
    expect(sent('fast')).toBe('Enter a number');
    expect(pairToForm(pairFixture('p1', 'Limited', { bandwidthLimit: 2048 }), kinds).bandwidthLimitKiB).toBe(
      2,
    );
    expect(pairToForm(pairFixture('p2', 'Unlimited'), kinds).bandwidthLimitKiB).toBe('');
  });

  it('asks for a number when a number input is left empty', () => {
    const values = validForm();
    values.operations = '';
    const result = validatePairForm(values, kinds);
    expect(!result.ok && result.errors['concurrency.operations']).toBe('Enter a number');
  });
});

describe('serverErrorToFieldErrors', () => {
  it('maps the server’s issue paths onto the form fields', () => {
    expect(
      serverErrorToFieldErrors({
        issues: [
          { path: 'source.path', message: 'must lie under an allowed root' },
          { path: '/body/concurrency/transfers', message: 'too big' },
          { path: 'ignorePatterns.2', message: 'too long' },
        ],
      }),
    ).toEqual({
      'source.path': 'must lie under an allowed root',
      'concurrency.transfers': 'too big',
      ignorePatterns: 'Line 3: too long',
    });
  });
});
