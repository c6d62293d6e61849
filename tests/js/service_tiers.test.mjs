// Service tiers (Flex and Priority inference) through the @google/genai JavaScript SDK, as the docs'
// examples use them: `config.serviceTier`, and the tier that served the call in the
// x-gemini-service-tier header of `response.sdkHttpResponse`. Run by tests/clients/test_js_service_tiers.py,
// which moves the key's project to tier2 first and passes GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) {
  throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set (tests/clients/test_js_service_tiers.py sets them)');
}
const MODEL = 'gemini-3.6-flash';
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });

const tierOf = (response) => response.sdkHttpResponse?.headers?.['x-gemini-service-tier'];

test('flex and priority are served so, with the standard answer', async () => {
  const contents = 'Triage this critical customer support ticket immediately.';
  const standard = await ai.models.generateContent({ model: MODEL, contents });
  assert.equal(tierOf(standard), undefined);
  for (const serviceTier of ['flex', 'priority']) {
    const response = await ai.models.generateContent({ model: MODEL, contents, config: { serviceTier } });
    assert.equal(tierOf(response), serviceTier);
    assert.equal(response.text, standard.text);
  }
  const chunks = [];
  for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents, config: { serviceTier: 'flex' } })) {
    chunks.push(chunk);
  }
  assert.equal(tierOf(chunks[0]), 'flex');
  assert.equal(chunks.map((chunk) => chunk.text ?? '').join(''), standard.text);
});

test('a model without the tiers is a 400 naming service_tier', async () => {
  await assert.rejects(
    ai.models.generateContent({ model: 'gemini-3.1-flash-image', contents: 'hi', config: { serviceTier: 'flex' } }),
    (error) => error.status === 400 && /INVALID_ARGUMENT/.test(error.message) && /service_tier/.test(error.message),
  );
});
