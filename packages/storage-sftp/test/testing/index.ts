export * from './sshd-server.js';
