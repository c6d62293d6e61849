// The Live API (ai.live.connect) and ephemeral tokens (ai.authTokens.create) driven by @google/genai, as a
// browser or Node application would use them. Run by tests/clients/test_live_js_sdk.py, which starts the emulator
// (the SDK dials ws:// for an http:// base URL) and passes:
//   GEMINI_MOCK_BASE_URL, GEMINI_MOCK_API_KEY   the emulator and a fresh project's key
//   GEMINI_MOCK_LIVE                            JSON {audioModel, textModel, prompt, audioText, textAnswer}:
//                                               the models and the answers the engine gives to `prompt`
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI, Modality } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
const live = JSON.parse(process.env.GEMINI_MOCK_LIVE ?? 'null');
if (!baseUrl || !apiKey || !live) {
  throw new Error('GEMINI_MOCK_BASE_URL, GEMINI_MOCK_API_KEY and GEMINI_MOCK_LIVE must be set (tests/clients/test_live_js_sdk.py sets them)');
}

const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });
const alpha = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1alpha' } });

// A session whose server messages queue up for `next()`; `closed` resolves with the close event.
async function open(client, model, config) {
  const queue = [];
  let wake = null;
  let closeEvent = null;
  let closedResolve;
  const closed = new Promise((resolve) => { closedResolve = resolve; });
  const session = await client.live.connect({
    model,
    config,
    callbacks: {
      onmessage: (message) => { queue.push(message); if (wake) { wake(); wake = null; } },
      onerror: () => {},
      onclose: (event) => { closeEvent = event; closedResolve(event); if (wake) { wake(); wake = null; } },
    },
  });
  async function next() {
    while (queue.length === 0) {
      if (closeEvent) throw new Error(`closed ${closeEvent.code}: ${closeEvent.reason}`);
      await new Promise((resolve) => { wake = resolve; });
    }
    return queue.shift();
  }
  async function untilTurnComplete() {
    const messages = [];
    for (;;) {
      const message = await next();
      messages.push(message);
      if (message.serverContent?.turnComplete) return messages;
    }
  }
  assert.ok((await next()).setupComplete);   // the SDK hands on the first message too
  return { session, next, untilTurnComplete, closed };
}

function joined(messages, pick) {
  return messages.map(pick).filter((x) => x !== undefined).join('');
}

test('an audio session answers 24 kHz PCM with the generateContent text as its transcript', async () => {
  const { session, untilTurnComplete } = await open(ai, live.audioModel, {
    responseModalities: [Modality.AUDIO], outputAudioTranscription: {},
  });
  session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: live.prompt }] }], turnComplete: true });
  const messages = await untilTurnComplete();
  session.close();
  assert.equal(joined(messages, (m) => m.serverContent?.outputTranscription?.text), live.audioText);
  const audio = messages.flatMap((m) => m.serverContent?.modelTurn?.parts ?? []).map((p) => p.inlineData);
  assert.ok(audio.length >= 2);
  for (const blob of audio) assert.equal(blob.mimeType, 'audio/pcm;rate=24000');
  const bytes = audio.reduce((sum, blob) => sum + Buffer.from(blob.data, 'base64').length, 0);
  const usage = messages.at(-1).usageMetadata;
  assert.equal(usage.responseTokenCount, Math.ceil((bytes / 2 / 24000) * 32 - 1e-6));
  assert.equal(usage.responseTokensDetails[0].modality, 'AUDIO');
});

test('a text session streams the text; realtime audio counts 32 tokens a second', async () => {
  const { session, untilTurnComplete } = await open(ai, live.textModel, {
    responseModalities: [Modality.TEXT], inputAudioTranscription: {},
  });
  session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: live.prompt }] }], turnComplete: true });
  const first = await untilTurnComplete();
  assert.equal(joined(first, (m) => m.serverContent?.modelTurn?.parts?.[0]?.text), live.textAnswer);
  const pcm = Buffer.alloc(16000 * 2 * 3);   // three seconds of 16 kHz silence
  session.sendRealtimeInput({ audio: { data: pcm.toString('base64'), mimeType: 'audio/pcm;rate=16000' } });
  session.sendRealtimeInput({ audioStreamEnd: true });
  const second = await untilTurnComplete();
  session.close();
  assert.ok(joined(second, (m) => m.serverContent?.inputTranscription?.text).length > 0);
  const audioTokens = second.at(-1).usageMetadata.promptTokensDetails.find((d) => d.modality === 'AUDIO');
  assert.equal(audioTokens.tokenCount, 96);
});

test('tool calls and tool responses', async () => {
  const { session, next, untilTurnComplete } = await open(ai, live.textModel, {
    responseModalities: [Modality.TEXT],
    tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Get the weather in a city',
      parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
  });
  session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Use get_weather for Oslo' }] }], turnComplete: true });
  const message = await next();
  const call = message.toolCall.functionCalls[0];
  assert.equal(call.name, 'get_weather');
  assert.equal(typeof call.args.city, 'string');
  session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { forecast: 'snow' } }] });
  const answer = await untilTurnComplete();
  session.close();
  assert.ok(joined(answer, (m) => m.serverContent?.modelTurn?.parts?.[0]?.text).length > 0);
});

test('an ephemeral token opens one constrained session, with its setup locked', async () => {
  const token = await alpha.authTokens.create({
    config: {
      uses: 1,
      liveConnectConstraints: { model: live.audioModel, config: { responseModalities: [Modality.AUDIO] } },
    },
  });
  assert.match(token.name, /^auth_tokens\//);
  const browser = new GoogleGenAI({ apiKey: token.name, httpOptions: { baseUrl, apiVersion: 'v1alpha' } });
  const { session, untilTurnComplete } = await open(browser, live.audioModel, { outputAudioTranscription: {} });
  session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: live.prompt }] }], turnComplete: true });
  const messages = await untilTurnComplete();
  session.close();
  assert.equal(joined(messages, (m) => m.serverContent?.outputTranscription?.text), live.audioText);
  // its one use is spent: the next session is refused with a policy close
  await assert.rejects(open(browser, live.audioModel, {}), /code 1008/);
});

test('errors arrive as close frames with the documented codes', async () => {
  await assert.rejects(open(ai, 'models/gemini-404', {}), /code 1008.*not supported for bidiGenerateContent/);
  await assert.rejects(open(ai, live.audioModel, { responseModalities: [Modality.TEXT] }),
    /code 1007.*response modality TEXT/);
});
