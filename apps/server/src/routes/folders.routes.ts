import { FolderListingSchema, FolderQuerySchema } from '@syncengine/contracts';
import type { FolderService } from '../services/folder.service.js';
import { errorResponses, type ZodApp } from './types.js';

/** `GET /folders`: the pair form's folder picker, confined to the allowed roots. */
export function folderRoutes(app: ZodApp, deps: { folders: FolderService }) {
  app.get(
    '/folders',
    {
      schema: {
        tags: ['pairs'],
        summary: 'Subfolders of a folder under the allowed roots (folders only), or the roots themselves',
        description:
          'Without `path`, lists the allowed roots. With an absolute `path` under them, lists its subfolders; a path outside the roots, missing or not a folder is answered 400 naming `querystring.path`.',
        querystring: FolderQuerySchema,
        response: { 200: FolderListingSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => deps.folders.list(request.query.path),
  );
}
