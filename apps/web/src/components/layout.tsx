import {
  AppShell,
  Badge,
  Box,
  Button,
  Group,
  NavLink,
  SegmentedControl,
  Text,
  Tooltip,
  useMantineColorScheme,
} from '@mantine/core';
import { Outlet, NavLink as RouterNavLink, useLocation, useNavigate } from 'react-router';
import { useLogout, useMe } from '../api/hooks.js';
import { useLive } from '../live/live-provider.js';

const CONNECTION_LABEL = {
  open: { label: 'Live', color: 'green', hint: 'Receiving live updates' },
  connecting: { label: 'Connecting', color: 'yellow', hint: 'Connecting to live updates' },
  reconnecting: { label: 'Reconnecting', color: 'orange', hint: 'Live updates lost; reconnecting' },
} as const;

const COLOR_SCHEMES = [
  { value: 'light', label: 'Light', symbol: '☀' },
  { value: 'dark', label: 'Dark', symbol: '☾' },
  { value: 'auto', label: 'System', symbol: '◐' },
] as const;

/** Light, dark, or the system's setting; remembered in the browser. */
function ColorSchemeToggle() {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  return (
    <SegmentedControl
      size="xs"
      aria-label="Colour scheme"
      value={colorScheme}
      onChange={(value) => setColorScheme(value as (typeof COLOR_SCHEMES)[number]['value'])}
      data={COLOR_SCHEMES.map((scheme) => ({
        value: scheme.value,
        label: (
          <span title={scheme.label}>
            <span aria-hidden>{scheme.symbol}</span>
            <span className="visually-hidden">{scheme.label}</span>
          </span>
        ),
      }))}
    />
  );
}

/** The app frame: header, navigation (a sidebar, or a row under the header on phones) and the page. */
export function Layout() {
  const live = useLive();
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  const location = useLocation();
  const pendingCount = Object.keys(live.pendingConflicts).length;
  const connection = CONNECTION_LABEL[live.connection];

  const links = [
    { to: '/', label: 'Overview' },
    { to: '/pairs', label: 'Sync pairs' },
    { to: '/conflicts', label: 'Conflicts', badge: pendingCount },
    { to: '/tokens', label: 'API tokens' },
  ];
  const isActive = (to: string) =>
    to === '/' ? location.pathname === '/' : location.pathname.startsWith(to);
  const linkLabel = (link: (typeof links)[number]) =>
    link.badge ? `${link.label}, ${link.badge} pending` : link.label;

  return (
    <AppShell
      header={{ height: { base: 96, sm: 56 } }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: true } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h={56} px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
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
          <Group gap="xs" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="md">
              {me.data?.username}
            </Text>
            <ColorSchemeToggle />
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
        {/* Phones: every page one tap away, in a row that scrolls sideways when it must. */}
        <Box hiddenFrom="sm" px="xs" style={{ overflowX: 'auto' }}>
          <Group component="nav" aria-label="Main navigation" gap={4} wrap="nowrap" h={40}>
            {links.map((link) => (
              <Button
                key={link.to}
                component={RouterNavLink}
                to={link.to}
                size="compact-sm"
                variant={isActive(link.to) ? 'light' : 'subtle'}
                aria-label={linkLabel(link)}
                aria-current={isActive(link.to) ? 'page' : undefined}
                rightSection={
                  link.badge ? (
                    <Badge size="xs" color="orange" circle aria-hidden>
                      {link.badge}
                    </Badge>
                  ) : null
                }
                style={{ flexShrink: 0 }}
              >
                {link.label}
              </Button>
            ))}
          </Group>
        </Box>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation" visibleFrom="sm">
        {links.map((link) => (
          <NavLink
            key={link.to}
            component={RouterNavLink}
            to={link.to}
            label={link.label}
            aria-label={linkLabel(link)}
            active={isActive(link.to)}
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
