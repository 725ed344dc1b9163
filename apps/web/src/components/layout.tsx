import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Outlet, NavLink as RouterNavLink, useLocation, useNavigate } from 'react-router';
import { useLogout, useMe } from '../api/hooks.js';
import { useLive } from '../live/live-provider.js';

const CONNECTION_LABEL = {
  open: { label: 'Live', color: 'green', hint: 'Receiving live updates' },
  connecting: { label: 'Connecting', color: 'yellow', hint: 'Connecting to live updates' },
  reconnecting: { label: 'Reconnecting', color: 'orange', hint: 'Live updates lost; reconnecting' },
} as const;

/** The app frame: header, navigation (a drawer on phones) and the page. */
export function Layout() {
  const [isOpen, { toggle, close }] = useDisclosure();
  const live = useLive();
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  const location = useLocation();
  const pendingCount = Object.keys(live.pendingConflicts).length;
  const connection = CONNECTION_LABEL[live.connection];

  const links = [
    { to: '/pairs', label: 'Sync pairs' },
    { to: '/conflicts', label: 'Conflicts', badge: pendingCount },
    { to: '/tokens', label: 'API tokens' },
  ];

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !isOpen } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={isOpen}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={700} component="span">
              SyncEngine
            </Text>
            <Tooltip label={connection.hint}>
              <Badge
                color={connection.color}
                variant="dot"
                aria-label={connection.hint}
                data-testid="connection-status"
              >
                {connection.label}
              </Badge>
            </Tooltip>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="xs">
              {me.data?.username}
            </Text>
            <Button
              variant="subtle"
              size="compact-sm"
              loading={logout.isPending}
              onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/login') })}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {links.map((link) => (
          <NavLink
            key={link.to}
            component={RouterNavLink}
            to={link.to}
            label={link.label}
            aria-label={link.badge ? `${link.label}, ${link.badge} pending` : link.label}
            active={location.pathname.startsWith(link.to)}
            onClick={close}
            rightSection={
              link.badge ? (
                <Badge size="sm" color="orange" circle aria-hidden>
                  {link.badge}
                </Badge>
              ) : null
            }
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
