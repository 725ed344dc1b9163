// Entry point of the SyncEngine server. Replaced by the full Fastify service.
process.stdout.write('SyncEngine server: not yet available\n');
