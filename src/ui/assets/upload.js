// @ts-check
/* global XMLHttpRequest */
/**
 * Document upload for the console. XMLHttpRequest rather than fetch: only
 * XHR reports upload progress in browsers.
 */
import { ApiError } from "./api.js";

/**
 * @typedef {{ id: string, title: string, source: string, text: string }} UploadDocument
 */

/**
 * One document per file: the file name is its id, title and source, so
 * uploading the same file again replaces it (the endpoint upserts by id).
 * @param {File[]} files
 * @returns {Promise<UploadDocument[]>}
 */
export async function readDocuments(files) {
  return Promise.all(files.map(async (file) => ({ id: file.name, title: file.name, source: file.name, text: await file.text() })));
}

/**
 * `POST /v1/collections/{name}/documents` with upload progress.
 *
 * @example
 * ```js
 * const body = await uploadDocuments({ collection: "kb", documents, key, onProgress: (f) => (bar.value = f * 100) });
 * ```
 * @param {{ collection: string, documents: UploadDocument[], key: string, onProgress: (fraction: number) => void }} options
 * @returns {Promise<unknown>} the response body
 */
export function uploadDocuments({ collection, documents, key, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/collections/${encodeURIComponent(collection)}/documents`);
    xhr.setRequestHeader("content-type", "application/json");
    xhr.setRequestHeader("accept", "application/json");
    if (key) xhr.setRequestHeader("authorization", `Bearer ${key}`);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      /** @type {unknown} */
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: keep the status line below.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
        return;
      }
      const error = /** @type {{ error?: { message?: string, code?: string } } | null} */ (body)?.error;
      const fallback =
        xhr.status === 404 ? "This gateway has no collections API." : `${xhr.status} ${xhr.statusText || "error"}`;
      reject(new ApiError(xhr.status, error?.message ?? fallback, error?.code ?? null));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload failed: the gateway could not be reached.")));
    xhr.addEventListener("abort", () => reject(new Error("The upload was cancelled.")));
    xhr.send(JSON.stringify(documents));
  });
}
