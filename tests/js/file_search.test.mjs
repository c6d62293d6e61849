// File Search through the @google/genai JavaScript SDK: a store, an upload that becomes a document, the
// operation polled with ai.operations.get, documents, a grounded answer, and the store deleted with force.
// Run by tests/clients/test_js_file_search.py, which passes GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set');
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });
const TEXT = 'Bananas are yellow tropical fruit. They are rich in potassium and grow in hanging clusters.';

test('a store, an uploaded document and a grounded answer', async () => {
  const store = await ai.fileSearchStores.create({ config: { displayName: 'js store' } });
  assert.match(store.name, /^fileSearchStores\/js-store-/);
  let operation = await ai.fileSearchStores.uploadToFileSearchStore({
    fileSearchStoreName: store.name,
    file: new Blob([TEXT], { type: 'text/plain' }),
    config: { displayName: 'bananas', customMetadata: [{ key: 'kind', stringValue: 'fruit' }] },
  });
  while (!operation.done) operation = await ai.operations.get({ operation });
  assert.equal(operation.response.parent, store.name);
  const documentName = operation.response.documentName;
  const doc = await ai.fileSearchStores.documents.get({ name: documentName });
  assert.equal(doc.state, 'STATE_ACTIVE');
  assert.equal(doc.displayName, 'bananas');
  const listed = [];
  for await (const item of await ai.fileSearchStores.documents.list({ parent: store.name })) listed.push(item.name);
  assert.deepEqual(listed, [documentName]);

  const response = await ai.models.generateContent({
    model: 'gemini-3-flash-preview', contents: 'Which fruit has potassium?',
    config: { tools: [{ fileSearch: { fileSearchStoreNames: [store.name], metadataFilter: 'kind = "fruit"' } }] },
  });
  const metadata = response.candidates[0].groundingMetadata;
  assert.equal(metadata.groundingChunks[0].retrievedContext.title, 'bananas');
  assert.equal(metadata.groundingChunks[0].retrievedContext.fileSearchStore, store.name);
  assert.equal(response.text, 'Bananas are yellow tropical fruit.');
  const segment = metadata.groundingSupports[0].segment;
  assert.equal(Buffer.from(response.text).subarray(segment.startIndex ?? 0, segment.endIndex).toString(), segment.text);

  await assert.rejects(ai.fileSearchStores.delete({ name: store.name }), /FAILED_PRECONDITION/);
  await ai.fileSearchStores.delete({ name: store.name, config: { force: true } });
  await assert.rejects(ai.fileSearchStores.get({ name: store.name }), /PERMISSION_DENIED/);
});
