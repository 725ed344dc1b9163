export * from './rclone-webdav.js';
