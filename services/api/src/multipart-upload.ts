// Reads an upload (multipart/form-data, one part named `file`) as a stream with busboy: the file's bytes go to the
// handler as they arrive, and the form's other fields reach it once the whole form has been read.
import type { Readable } from 'node:stream';
import { ApiError } from '@threadwork/shared';
import Busboy from 'busboy';
import type { Request } from 'express';

export interface UploadPart {
  content: Readable;
  filename: string;
  /** The form's text fields, settled once the form has ended (they may come after the file). */
  fields: Promise<Record<string, string>>;
}

function malformed(reason: string): ApiError {
  return new ApiError(400, `The multipart form could not be read: ${reason}.`, { code: 'invalid_multipart' });
}

/**
 * Reads and drops the rest of a refused upload, up to `limitBytes`, so that a client still sending reads the answer
 * instead of a reset connection; past the limit the connection is left to close.
 */
function discardRest(req: Request, limitBytes: number): Promise<void> {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = () => {
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > limitBytes) {
        req.pause();
        done();
      }
    };
    if (req.complete) return resolve();
    req.on('data', onData).on('end', done).on('close', done).on('error', done);
    req.resume();
  });
}

/**
 * Calls `save` with the `file` part as soon as it starts and answers what `save` answers. A refused upload's rest is
 * read and dropped, up to `discardLimitBytes`, before the refusal is answered.
 */
export function receiveUpload<T>(
  req: Request,
  save: (part: UploadPart) => Promise<T>,
  discardLimitBytes: number,
): Promise<T> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(
      new ApiError(415, 'Send the file as multipart/form-data with the fields `file` and `purpose`.', {
        code: 'unsupported_media_type',
      }),
    );
  }
  return new Promise<T>((resolve, reject) => {
    let form: Busboy.Busboy;
    try {
      form = Busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1024, parts: 11 } });
    } catch (error) {
      reject(malformed((error as Error).message));
      return;
    }
    const fields: Record<string, string> = {};
    let settleFields: (value: Record<string, string>) => void = () => {};
    const fieldsRead = new Promise<Record<string, string>>((settle) => {
      settleFields = settle;
    });
    let saving: Promise<T> | undefined;
    const fail = (error: unknown) => {
      req.unpipe(form);
      discardRest(req, discardLimitBytes).then(() => reject(error));
    };
    form.on('field', (name, value) => {
      fields[name] = value;
    });
    form.on('file', (name, content, info) => {
      if (name !== 'file' || saving) {
        content.resume();
        return;
      }
      // A request cut off mid-file ends the file with an error, so the handler stops and undoes what it wrote.
      req.once('close', () => {
        if (!req.complete) content.destroy(new Error('the upload was cut off'));
      });
      saving = Promise.resolve().then(() =>
        save({ content, filename: info.filename ?? '', fields: fieldsRead }),
      );
      saving.catch(fail);
    });
    form.on('close', () => {
      settleFields(fields);
      if (!saving) fail(new ApiError(400, "Missing the 'file' part of the form.", { param: 'file' }));
      else saving.then(resolve, fail);
    });
    form.on('error', (error) => fail(malformed((error as Error).message)));
    req.pipe(form);
  });
}
