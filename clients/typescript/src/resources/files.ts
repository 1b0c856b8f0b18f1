import type { APIClient, RequestOptions } from '../core.js';
import { AgentSessionError } from '../errors.js';
import type { FileInfo } from '../types.js';

/** File content: a Blob (or File) or bytes. In Node, `await fs.openAsBlob(path)` gives a Blob of a file. */
export type UploadInput = Blob | ArrayBuffer | ArrayBufferView;

export interface UploadOptions extends RequestOptions {
  /** The file's name (default: the File's own name, else "file"). */
  filename?: string | undefined;
  /** The media type (default: the Blob's type, else application/octet-stream). */
  contentType?: string | undefined;
}

/** `client.files`: upload files whose tokens turns accept in `files`. */
export class Files {
  readonly #client: APIClient;

  constructor(client: APIClient) {
    this.#client = client;
  }

  /**
   * Uploads a file (multipart, part `file`) and returns its metadata. The body
   * is built once, so a retry sends the same bytes with the same idempotency key.
   */
  async upload(file: UploadInput, options: UploadOptions = {}): Promise<FileInfo> {
    let blob: Blob;
    if (file instanceof Blob) blob = file;
    else if (file instanceof ArrayBuffer || ArrayBuffer.isView(file)) {
      const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
      blob = new Blob([bytes.slice()]);
    } else {
      throw new AgentSessionError('files.upload: the file must be a Blob, an ArrayBuffer or a typed array');
    }
    const name = options.filename ?? (typeof (file as { name?: unknown }).name === 'string' ? (file as File).name : '') ?? '';
    const type = options.contentType ?? (blob.type || 'application/octet-stream');
    const form = new FormData();
    form.append('file', blob.type === type ? blob : new Blob([blob], { type }), name || 'file');
    const { data } = await this.#client.request<FileInfo>({ method: 'POST', path: 'v1/files', body: form, options });
    return data;
  }

  /** A file's metadata. */
  async get(fileToken: string, options?: RequestOptions): Promise<FileInfo> {
    const { data } = await this.#client.request<FileInfo>({ method: 'GET', path: `v1/files/${encodeURIComponent(fileToken)}`, options });
    return data;
  }
}
