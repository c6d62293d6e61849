// Built-in tools through the @google/genai JavaScript SDK: Google Search grounding (also streamed), code
// execution and URL context. Run by tests/clients/test_js_builtin_tools.py, which passes GEMINI_MOCK_BASE_URL and
// GEMINI_MOCK_API_KEY.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set');
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });
const MODEL = 'gemini-2.5-flash';

// The supports' segments are UTF-8 byte ranges of the answer text, citing chunks that exist.
function checkSupports(metadata, text) {
  const bytes = Buffer.from(text, 'utf8');
  assert.ok(metadata.groundingSupports.length > 0);
  for (const support of metadata.groundingSupports) {
    const { startIndex = 0, endIndex, text: segmentText } = support.segment;
    assert.equal(bytes.subarray(startIndex, endIndex).toString('utf8'), segmentText);
    for (const i of support.groundingChunkIndices) assert.ok(i >= 0 && i < metadata.groundingChunks.length);
  }
}

test('googleSearch grounds the answer', async () => {
  const response = await ai.models.generateContent({
    model: MODEL, contents: 'Who won the euro 2024?', config: { tools: [{ googleSearch: {} }] },
  });
  const metadata = response.candidates[0].groundingMetadata;
  assert.deepEqual(metadata.webSearchQueries, ['who won the euro 2024']);
  for (const chunk of metadata.groundingChunks) {
    assert.match(chunk.web.uri, /^https:\/\/vertexaisearch\.cloud\.google\.com\/grounding-api-redirect\//);
  }
  assert.match(metadata.searchEntryPoint.renderedContent, /class="chip"/);
  checkSupports(metadata, response.text);
  assert.ok(response.usageMetadata.toolUsePromptTokenCount > 0);
});

test('a grounded stream carries the metadata on its last chunk', async () => {
  const request = { model: MODEL, contents: 'Latest news about the Mars rover', config: { tools: [{ googleSearch: {} }] } };
  const chunks = [];
  for await (const chunk of await ai.models.generateContentStream(request)) chunks.push(chunk);
  assert.ok(chunks.length >= 2);
  assert.ok(chunks.slice(0, -1).every((c) => !c.candidates[0].groundingMetadata));
  const text = chunks.map((c) => c.text ?? '').join('');
  checkSupports(chunks.at(-1).candidates[0].groundingMetadata, text);
});

test('codeExecution returns the code and its result', async () => {
  const response = await ai.models.generateContent({
    model: MODEL, contents: 'What is 2 ** 10 - 24?', config: { tools: [{ codeExecution: {} }] },
  });
  assert.equal(response.executableCode, 'result = 2 ** 10 - 24\nprint(result)\n');
  assert.equal(response.codeExecutionResult, '1000\n');
});

test('urlContext reports each URL of the prompt', async () => {
  const response = await ai.models.generateContent({
    model: MODEL, contents: 'Compare https://example.com/a and https://example.com/b', config: { tools: [{ urlContext: {} }] },
  });
  assert.deepEqual(response.candidates[0].urlContextMetadata.urlMetadata.map((u) => u.retrievedUrl),
    ['https://example.com/a', 'https://example.com/b']);
});

test('search with function declarations is refused on 2.5', async () => {
  await assert.rejects(ai.models.generateContent({
    model: MODEL, contents: 'Weather?',
    config: { tools: [{ googleSearch: {}, functionDeclarations: [{ name: 'getWeather', description: 'w' }] }] },
  }), (error) => error.status === 400 && /Tool use with function calling is unsupported/.test(error.message));
});
