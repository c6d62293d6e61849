// Environments through @google/genai's `ai.environments` (run by tests/clients/test_js_environments.py, which passes
// GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set');
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });

test('create, get, list and delete an environment', async () => {
  const made = await ai.environments.create({
    sources: [{ type: 'inline', content: 'hello\n', target: 'notes/hello.txt' }],
  });
  assert.equal(made.status, 'active');
  assert.equal(made.file_count ?? made.fileCount, 1);
  const got = await ai.environments.get(made.id);
  assert.equal(got.id, made.id);
  const listed = await ai.environments.list();
  assert.deepEqual(listed.environments.map((e) => e.id), [made.id]);
  await ai.environments.delete(made.id);
  await assert.rejects(ai.environments.get(made.id), (error) => {
    assert.match(String(error.message ?? error), /403|PERMISSION_DENIED|permission/i);
    return true;
  });
});
