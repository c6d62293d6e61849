// The Interactions API, agents and webhooks driven by the @google/genai JavaScript SDK.
// Run by tests/clients/test_js_interactions.py, which starts the emulator and passes:
//   GEMINI_MOCK_BASE_URL  the emulator's address
//   GEMINI_MOCK_API_KEY   the key of a fresh project
//   GEMINI_MOCK_EXPECTED  JSON {prompt, text}: the Python SDK's interaction answer to `prompt`
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) {
  throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set (tests/clients/test_js_interactions.py sets them)');
}
const expected = JSON.parse(process.env.GEMINI_MOCK_EXPECTED);
const MODEL = 'gemini-3.6-flash';
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });

async function advanceClock(seconds) {
  const response = await fetch(`${baseUrl}/_mock/clock`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(response.status, 200, await response.text());
}

function streamedText(events) {
  return events.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'text').map((e) => e.delta.text).join('');
}

test('create answers what the Python SDK got, and get shows the timeline', async () => {
  const made = await ai.interactions.create({ model: MODEL, input: expected.prompt });
  assert.equal(made.status, 'completed');
  assert.equal(made.output_text, expected.text);
  const got = await ai.interactions.get(made.id);
  assert.deepEqual(got.steps.map((s) => s.type), ['user_input', 'thought', 'model_output']);
  await ai.interactions.delete(made.id);
  await assert.rejects(ai.interactions.get(made.id), (error) => error.status === 404);
});

test('streamed events add up to the answer and resume after an event id', async () => {
  const events = [];
  for await (const event of await ai.interactions.create({ model: MODEL, input: expected.prompt, stream: true })) {
    events.push(event);
  }
  assert.equal(events[0].event_type, 'interaction.created');
  assert.equal(events.at(-1).event_type, 'interaction.completed');
  assert.equal(streamedText(events), expected.text);
  const rest = [];
  const id = events[0].interaction.id;
  for await (const event of await ai.interactions.get(id, { stream: true, last_event_id: events[2].event_id })) {
    rest.push(event);
  }
  assert.deepEqual(rest.map((e) => e.event_id), events.slice(3).map((e) => e.event_id));
});

test('function calls and results continue a conversation', async () => {
  const tools = [{ type: 'function', name: 'get_weather', description: 'Get the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
  const first = await ai.interactions.create({ model: MODEL, input: 'Weather in Oslo?', tools });
  assert.equal(first.status, 'requires_action');
  const call = first.steps.at(-1);
  assert.equal(call.type, 'function_call');
  const second = await ai.interactions.create({ model: MODEL, tools, previous_interaction_id: first.id,
    input: [{ type: 'function_result', call_id: call.id, name: call.name, result: { temp: '3C' } }] });
  assert.equal(second.status, 'completed');
  assert.ok(second.output_text.length > 0);
});

test('a background interaction follows the clock and can be cancelled', async () => {
  const started = await ai.interactions.create({ model: MODEL, input: expected.prompt, background: true });
  assert.equal(started.status, 'in_progress');
  const other = await ai.interactions.create({ model: MODEL, input: expected.prompt, background: true });
  assert.equal((await ai.interactions.cancel(other.id)).status, 'cancelled');
  await advanceClock(3600);
  const done = await ai.interactions.get(started.id);
  assert.equal(done.status, 'completed');
  assert.equal(done.output_text, expected.text);
  assert.equal((await ai.interactions.get(other.id)).status, 'cancelled');
});

test('the stream of a background interaction stays open until it completes', async () => {
  const events = [];
  const stream = await ai.interactions.create({ model: MODEL, input: expected.prompt, background: true, stream: true });
  for await (const event of stream) {
    events.push(event);
    if (events.length === 2) await advanceClock(3600);   // created, in_progress: the rest waits for the clock
  }
  assert.deepEqual(events.slice(0, 2).map((e) => e.event_type), ['interaction.created', 'interaction.status_update']);
  assert.equal(events.at(-1).event_type, 'interaction.completed');
  assert.equal(events.at(-1).interaction.status, 'completed');
  assert.equal(streamedText(events), expected.text);
});

test('errors carry the Interactions error body', async () => {
  await assert.rejects(ai.interactions.create({ model: 'no-such-model', input: 'hi' }),
    (error) => error.status === 404 && /no-such-model/.test(error.message));
  await assert.rejects(ai.interactions.create({ model: MODEL }),
    (error) => error.status === 400 && /input is required/.test(error.message));
});

test('agents and webhooks', async () => {
  const agents = await ai.agents.list();
  assert.ok(agents.agents.some((a) => a.id === 'deep-research-pro-preview-12-2025'));
  const hook = await ai.webhooks.create({ uri: 'https://example.com/hook', subscribed_events: ['batch.succeeded'] });
  assert.match(hook.new_signing_secret, /^whsec_/);
  assert.deepEqual((await ai.webhooks.list()).webhooks.map((w) => w.id), [hook.id]);
  const rotated = await ai.webhooks.rotateSigningSecret(hook.id, {});
  assert.match(rotated.secret, /^whsec_/);
  await ai.webhooks.delete(hook.id);
  await assert.rejects(ai.webhooks.get(hook.id), (error) => error.status === 404);
});
