// The emulator driven by the @google/genai JavaScript SDK, exactly as an application would use it.
// Run by tests/clients/test_js_sdk.py, which starts the emulator and passes:
//   GEMINI_MOCK_BASE_URL  the emulator's address (http://127.0.0.1:<port>)
//   GEMINI_MOCK_API_KEY   the key of a fresh project
//   GEMINI_MOCK_EXPECTED  optional JSON {prompt, text}: the Python SDK's answer to `prompt`
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GoogleGenAI, createPartFromUri, createUserContent } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) {
  throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set (tests/clients/test_js_sdk.py sets them)');
}
const expected = process.env.GEMINI_MOCK_EXPECTED ? JSON.parse(process.env.GEMINI_MOCK_EXPECTED) : null;

const MODEL = 'gemini-2.5-flash';
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });                    // the SDK default: /v1
const beta = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });

async function advanceClock(seconds) {
  const response = await fetch(`${baseUrl}/_mock/clock`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(response.status, 200, await response.text());
}

test('generateContent is deterministic and matches the Python SDK', async () => {
  const prompt = expected?.prompt ?? 'Tell me about the ocean';
  const first = await ai.models.generateContent({ model: MODEL, contents: prompt });
  const again = await beta.models.generateContent({ model: MODEL, contents: prompt });
  assert.ok(first.text.trim().length > 0);
  assert.equal(again.text, first.text);
  assert.equal(first.candidates[0].finishReason, 'STOP');
  assert.ok(first.responseId && first.modelVersion);
  const usage = first.usageMetadata;
  assert.equal(usage.totalTokenCount,
    usage.promptTokenCount + usage.candidatesTokenCount + (usage.thoughtsTokenCount ?? 0));
  if (expected) assert.equal(first.text, expected.text);
  const other = await ai.models.generateContent({ model: MODEL, contents: 'Tell me about mountains' });
  assert.notEqual(other.text, first.text);
});

test('generateContentStream chunks join to the same answer', async () => {
  const whole = await ai.models.generateContent({ model: MODEL, contents: 'Describe a lighthouse' });
  let text = '';
  let chunks = 0;
  for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: 'Describe a lighthouse' })) {
    text += chunk.text ?? '';
    chunks += 1;
  }
  assert.ok(chunks >= 3, `only ${chunks} chunks`);
  assert.equal(text, whole.text);
});

test('function calling, JSON output and generation config', async () => {
  const declaration = {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  };
  const call = await ai.models.generateContent({
    model: MODEL,
    contents: 'What is the weather in Paris?',
    config: { tools: [{ functionDeclarations: [declaration] }], toolConfig: { functionCallingConfig: { mode: 'ANY' } } },
  });
  assert.equal(call.functionCalls[0].name, 'get_weather');
  assert.equal(typeof call.functionCalls[0].args.city, 'string');

  const json = await ai.models.generateContent({
    model: MODEL,
    contents: 'Describe a cat',
    config: {
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object', properties: { legs: { type: 'integer' } }, required: ['legs'] },
      thinkingConfig: { thinkingBudget: 0 },
      maxOutputTokens: 200,
      temperature: 0.2,
    },
  });
  assert.equal(typeof JSON.parse(json.text).legs, 'number');
});

test('countTokens agrees with the prompt count of generateContent', async () => {
  const contents = 'How many tokens is this sentence?';
  const counted = await ai.models.countTokens({ model: MODEL, contents });
  const generated = await ai.models.generateContent({ model: MODEL, contents });
  assert.ok(counted.totalTokens > 0);
  assert.equal(counted.totalTokens, generated.usageMetadata.promptTokenCount);
});

test('embedContent', async () => {
  const result = await ai.models.embedContent({
    model: 'gemini-embedding-001',
    contents: ['the cat sat on the mat', 'stock prices fell'],
    config: { outputDimensionality: 16 },
  });
  assert.equal(result.embeddings.length, 2);
  assert.equal(result.embeddings[0].values.length, 16);
  const again = await ai.models.embedContent({
    model: 'gemini-embedding-001', contents: 'the cat sat on the mat', config: { outputDimensionality: 16 },
  });
  assert.deepEqual(again.embeddings[0].values, result.embeddings[0].values);
  // usageMetadata of batchEmbedContents: the two texts count more prompt tokens than the first alone
  assert.ok(again.usageMetadata.promptTokenCount > 0);
  assert.ok(result.usageMetadata.promptTokenCount > again.usageMetadata.promptTokenCount);
});

test('files: upload, get, list, use in a prompt, delete', async () => {
  const data = 'Lighthouses guide ships along the coast at night.\n';
  const file = await ai.files.upload({
    file: new Blob([data], { type: 'text/plain' }),
    config: { mimeType: 'text/plain', displayName: 'notes.txt' },
  });
  assert.match(file.name, /^files\/[a-z0-9]+$/);
  assert.equal(file.displayName, 'notes.txt');
  assert.equal(Number(file.sizeBytes), Buffer.byteLength(data));
  assert.equal(file.state, 'ACTIVE');

  const fetched = await ai.files.get({ name: file.name });
  assert.equal(fetched.uri, file.uri);
  const listed = [];
  for await (const item of await ai.files.list({ config: { pageSize: 10 } })) listed.push(item.name);
  assert.deepEqual(listed, [file.name]);

  const answer = await ai.models.generateContent({
    model: MODEL,
    contents: createUserContent([createPartFromUri(file.uri, file.mimeType), 'Summarise the notes']),
  });
  assert.ok(answer.text.trim().length > 0);
  assert.ok(answer.usageMetadata.promptTokenCount > 3);

  await ai.files.delete({ name: file.name });
  await assert.rejects(ai.files.get({ name: file.name }), (error) => error.status === 403);
});

test('batches: inline and file batches run to completion as the clock advances', async () => {
  const inline = await ai.batches.create({
    model: MODEL,
    src: [
      { contents: [{ role: 'user', parts: [{ text: 'Tell me about the ocean' }] }] },
      { contents: [{ role: 'user', parts: [{ text: 'Tell me about mountains' }] }] },
    ],
    config: { displayName: 'js-inline' },
  });
  assert.match(inline.name, /^batches\//);
  assert.equal(inline.state, 'JOB_STATE_PENDING');
  assert.equal(inline.displayName, 'js-inline');

  const lines = [
    { key: 'a', request: { contents: [{ role: 'user', parts: [{ text: 'Describe a lighthouse' }] }] } },
    { key: 'b', request: { contents: [{ role: 'user', parts: [{ text: 'Describe a harbor' }] }] } },
  ];
  const input = await ai.files.upload({
    file: new Blob([lines.map((line) => JSON.stringify(line)).join('\n') + '\n'], { type: 'application/jsonl' }),
    config: { mimeType: 'application/jsonl', displayName: 'requests.jsonl' },
  });
  const fromFile = await ai.batches.create({ model: MODEL, src: input.name });

  await advanceClock(3600);

  const done = await ai.batches.get({ name: inline.name });
  assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
  assert.equal(done.dest.inlinedResponses.length, 2);
  const ocean = await ai.models.generateContent({ model: MODEL, contents: 'Tell me about the ocean' });
  assert.equal(done.dest.inlinedResponses[0].response.candidates[0].content.parts.at(-1).text, ocean.text);

  const fileDone = await ai.batches.get({ name: fromFile.name });
  assert.equal(fileDone.state, 'JOB_STATE_SUCCEEDED');
  assert.match(fileDone.dest.fileName, /^files\//);
  const dir = mkdtempSync(join(tmpdir(), 'gemini-mock-js-'));
  try {
    const path = join(dir, 'results.jsonl');
    await ai.files.download({ file: fileDone.dest.fileName, downloadPath: path });
    const results = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(results.map((result) => result.key), ['a', 'b']);
    assert.ok(results.every((result) => result.response.candidates[0].content.parts.length > 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const names = [];
  for await (const job of await ai.batches.list({ config: { pageSize: 10 } })) names.push(job.name);
  assert.deepEqual(names.sort(), [inline.name, fromFile.name].sort());
});

test('caches: create, use, get, list, update, delete', async () => {
  const document = Array.from({ length: 200 }, (_, i) => `Paragraph ${i} describes rivers, lakes and the sea.`).join(' ');
  const cache = await ai.caches.create({
    model: MODEL,
    config: { contents: [{ role: 'user', parts: [{ text: document }] }], ttl: '600s', displayName: 'js-cache' },
  });
  assert.match(cache.name, /^cachedContents\//);
  assert.ok(cache.usageMetadata.totalTokenCount > 1024);

  const answer = await ai.models.generateContent({
    model: MODEL, contents: 'Summarise the document', config: { cachedContent: cache.name },
  });
  assert.equal(answer.usageMetadata.cachedContentTokenCount, cache.usageMetadata.totalTokenCount);

  const fetched = await ai.caches.get({ name: cache.name });
  assert.equal(fetched.displayName, 'js-cache');
  const listed = [];
  for await (const item of await ai.caches.list()) listed.push(item.name);
  assert.deepEqual(listed, [cache.name]);

  const updated = await ai.caches.update({ name: cache.name, config: { ttl: '3600s' } });
  assert.ok(Date.parse(updated.expireTime) > Date.parse(cache.expireTime));

  await ai.caches.delete({ name: cache.name });
  await assert.rejects(ai.caches.get({ name: cache.name }), (error) => error.status === 403);
});

test('errors arrive as ApiError with the HTTP status', async () => {
  await assert.rejects(ai.models.generateContent({ model: 'gemini-0-nope', contents: 'x' }),
    (error) => error.status === 404 && /NOT_FOUND/.test(error.message));
  await assert.rejects(
    ai.models.generateContent({ model: MODEL, contents: 'x', config: { temperature: 9 } }),
    (error) => error.status === 400);
});

test('Gemini 4: Hydrogen takes XHIGH, Argon refuses an output cap over its shared 1,048,576-token limit', async () => {
  const xhigh = await beta.models.generateContent({
    model: 'gemini-4-hydrogen', contents: 'Plan a trip to Lyon',
    config: { thinkingConfig: { thinkingLevel: 'XHIGH' } },
  });
  assert.ok(xhigh.text.length > 0 && xhigh.usageMetadata.thoughtsTokenCount > 0);
  await assert.rejects(
    beta.models.generateContent({ model: 'gemini-4-argon', contents: 'hi', config: { maxOutputTokens: 1048576 } }),
    (error) => error.status === 400 && /maxOutputTokens/.test(error.message));
  await assert.rejects(
    beta.models.generateContent({ model: 'gemini-4-argon', contents: 'hi',
      config: { thinkingConfig: { thinkingLevel: 'MINIMAL' } } }),
    (error) => error.status === 400 && /Supported thinking levels: LOW, MEDIUM, HIGH/.test(error.message));
});
