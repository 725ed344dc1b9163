import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { LoginSchema } from '@syncengine/contracts';
import { type FormEvent, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError, errorMessage } from '../api/client.js';
import { useLogin, useMe } from '../api/hooks.js';
import { type FieldErrors, issuesToFieldErrors } from '../lib/pair-form.js';

export function LoginPage() {
  const [params] = useSearchParams();
  const next = params.get('next') ?? '/';
  const me = useMe();
  const login = useLogin();
  const navigate = useNavigate();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});

  if (me.data) return <Navigate to={next} replace />;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = LoginSchema.safeParse({ username, password });
    if (!parsed.success) {
      setErrors(issuesToFieldErrors(parsed.error.issues));
      return;
    }
    setErrors({});
    login.mutate(parsed.data, { onSuccess: () => navigate(next, { replace: true }) });
  };

  const failure = login.error;
  const failureText =
    failure instanceof ApiError && failure.status === 401
      ? 'Wrong user name or password. The first user is “admin”, with the password set in SYNCENGINE_ADMIN_PASSWORD (or printed once in the server log on first start).'
      : failure
        ? errorMessage(failure)
        : null;

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" radius="md" w="100%" maw={400} component="main">
        <form onSubmit={onSubmit} noValidate aria-labelledby="sign-in-title">
          <Stack>
            <div>
              <Title order={1} size="h2" id="sign-in-title">
                Sign in
              </Title>
              <Text c="dimmed" size="sm">
                to your SyncEngine dashboard
              </Text>
            </div>
            {failureText && (
              <Alert color="red" role="alert" title="Could not sign in">
                {failureText}
              </Alert>
            )}
            <TextInput
              label="User name"
              autoComplete="username"
              value={username}
              onChange={(event) => setUsername(event.currentTarget.value)}
              error={errors.username}
              required
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
              error={errors.password}
              required
              data-autofocus
              autoFocus
            />
            <Button type="submit" loading={login.isPending} fullWidth>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
