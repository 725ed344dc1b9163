import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import {
  createBrowserRouter,
  Link,
  Navigate,
  Outlet,
  RouterProvider,
  useLocation,
  useNavigate,
} from 'react-router';
import { ApiError, setUnauthorizedHandler } from './api/client.js';
import { keys, useMe } from './api/hooks.js';
import { Layout } from './components/layout.js';
import { ErrorState, LoadingState } from './components/state-views.js';
import { LiveProvider } from './live/live-provider.js';
import { LoginPage } from './pages/login-page.js';

/** Pages behind sign-in: without a session, go to the sign-in page and come back after. */
function RequireSession() {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const client = useQueryClient();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      client.setQueryData(keys.me, null);
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [client, navigate, location.pathname, location.search]);

  const next = encodeURIComponent(location.pathname + location.search);
  if (me.isPending) return <LoadingState label="Checking your session…" />;
  if (me.isError && !(me.error instanceof ApiError && me.error.status === 401)) {
    return (
      <Center p="xl">
        <ErrorState
          error={me.error}
          onRetry={() => me.refetch()}
          title="The dashboard cannot reach the server"
        />
      </Center>
    );
  }
  if (!me.data) return <Navigate to={`/login?next=${next}`} replace />;
  return (
    <LiveProvider>
      <Outlet />
    </LiveProvider>
  );
}

function NotFound() {
  return (
    <Stack align="center" py="xl">
      <Title order={1} size="h2">
        Page not found
      </Title>
      <Text c="dimmed">The address does not match any page of the dashboard.</Text>
      <Button component={Link} to="/pairs">
        Go to the pairs
      </Button>
    </Stack>
  );
}

const pairForm = async () => ({ Component: (await import('./pages/pair-form-page.js')).PairFormPage });

const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <Layout />,
        children: [
          {
            index: true,
            lazy: async () => ({ Component: (await import('./pages/overview-page.js')).OverviewPage }),
          },
          // Pages load on first visit, so the sign-in page and the pairs list come up fast.
          {
            path: 'pairs',
            lazy: async () => ({ Component: (await import('./pages/pairs-page.js')).PairsPage }),
          },
          { path: 'pairs/new', lazy: pairForm },
          {
            path: 'pairs/:id',
            lazy: async () => ({ Component: (await import('./pages/pair-page.js')).PairPage }),
          },
          { path: 'pairs/:id/edit', lazy: pairForm },
          {
            path: 'pairs/:id/versions',
            lazy: async () => ({ Component: (await import('./pages/versions-page.js')).VersionsPage }),
          },
          {
            path: 'pairs/:id/preview',
            lazy: async () => ({ Component: (await import('./pages/preview-page.js')).PreviewPage }),
          },
          {
            path: 'runs/:id',
            lazy: async () => ({ Component: (await import('./pages/run-page.js')).RunPage }),
          },
          {
            path: 'conflicts',
            lazy: async () => ({ Component: (await import('./pages/conflicts-page.js')).ConflictsPage }),
          },
          {
            path: 'tokens',
            lazy: async () => ({ Component: (await import('./pages/tokens-page.js')).TokensPage }),
          },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
