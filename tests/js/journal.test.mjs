// What @google/genai sent and got, as the journal keeps it, and a paced stream. Run by
// tests/clients/test_js_journal.py, which passes GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY and sets the pace
// of MODEL to 0.3 s before the first token.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set');
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });
const MODEL = 'gemini-3.5-flash-lite';

test('a stream is journaled with its request and each event, the key redacted', async () => {
  const prompt = 'journal me: the tides of ' + Date.now();
  const started = performance.now();
  const chunks = [];
  let first = null;
  for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: prompt })) {
    if (first === null) first = performance.now() - started;
    chunks.push(chunk.text ?? '');
  }
  assert.ok(first >= 300, `the first chunk came after ${first} ms`);   // the configured time to first token
  const found = await (await fetch(`${baseUrl}/_mock/requests?bodies=true&text=${encodeURIComponent(prompt)}`)).json();
  assert.equal(found.requests.length, 1);
  const entry = found.requests[0];
  assert.equal(entry.request.body.contents[0].parts[0].text, prompt);
  assert.equal(entry.request.headers['x-goog-api-key'], 'REDACTED');
  assert.match(entry.request.headers['x-goog-api-client'], /google-genai-sdk\//);
  assert.ok(!JSON.stringify(entry).includes(apiKey));
  assert.deepEqual(entry.response.events.map((e) => e.candidates[0].content.parts[0].text), chunks);
  const detail = await (await fetch(`${baseUrl}/_mock/requests/${entry.id}`)).json();
  assert.match(detail.curl, /^curl -X POST /);
});
