// Live music (Lyria RealTime, ai.live.music.connect) driven by @google/genai, as an application would use it.
// Run by tests/clients/test_live_music_js_sdk.py, which starts the emulator (sending music faster than real
// time) and passes:
//   GEMINI_MOCK_BASE_URL, GEMINI_MOCK_API_KEY   the emulator and a fresh project's key
//   GEMINI_MOCK_MUSIC                           JSON {model, mimeType, chunkBytes}
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
const music = JSON.parse(process.env.GEMINI_MOCK_MUSIC ?? 'null');
if (!baseUrl || !apiKey || !music) {
  throw new Error('GEMINI_MOCK_BASE_URL, GEMINI_MOCK_API_KEY and GEMINI_MOCK_MUSIC must be set (tests/clients/test_live_music_js_sdk.py sets them)');
}

const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl, apiVersion: 'v1beta' } });
const TECHNO = [{ text: 'minimal techno', weight: 1.0 }];

// A music session whose server messages queue up for `next()`; `closed` resolves with the close event.
async function open(model = music.model) {
  const queue = [];
  let wake = null;
  let closeEvent = null;
  let closedResolve;
  const closed = new Promise((resolve) => { closedResolve = resolve; });
  const session = await ai.live.music.connect({
    model,
    callbacks: {
      onmessage: (message) => { queue.push(message); if (wake) { wake(); wake = null; } },
      onerror: () => {},
      onclose: (event) => { closeEvent = event; closedResolve(event); if (wake) { wake(); wake = null; } },
    },
  });
  async function next(ms = 10000) {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (closeEvent) throw new Error(`closed ${closeEvent.code}: ${closeEvent.reason}`);
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, left); });
    }
    return queue.shift();
  }
  async function chunks(count) {
    const out = [];
    while (out.length < count) {
      const message = await next();
      assert.ok(message, 'no audio chunk came');
      out.push(...(message.serverContent?.audioChunks ?? []));
    }
    return out;
  }
  async function quiet(ms = 500) {   // the messages still in flight, until none comes for `ms`
    const late = [];
    for (;;) {
      const message = await next(ms);
      if (!message) return late;
      late.push(message);
    }
  }
  return { session, next, chunks, quiet, closed };
}

test('setup, play, pause, stop: 2 s chunks of 48 kHz stereo PCM', async () => {
  const { session, next, chunks, quiet } = await open();
  assert.deepEqual({ ...(await next()) }, { setupComplete: {} });
  await session.setWeightedPrompts({ weightedPrompts: TECHNO });
  await session.setMusicGenerationConfig({ musicGenerationConfig: { bpm: 100, density: 0.5 } });
  session.play();
  const first = await chunks(3);
  for (const chunk of first) {
    assert.equal(chunk.mimeType, music.mimeType);
    assert.equal(Buffer.from(chunk.data, 'base64').length, music.chunkBytes);
    assert.equal(chunk.sourceMetadata.clientContent.weightedPrompts[0].text, 'minimal techno');
    assert.equal(chunk.sourceMetadata.musicGenerationConfig.bpm, 100);
  }
  assert.equal(new Set(first.map((c) => c.data)).size, 3);
  session.pause();
  assert.ok((await quiet()).length <= 2);
  session.stop();
  await quiet();
  session.play();
  const [restarted] = await chunks(1);
  assert.equal(restarted.data, first[0].data);   // STOP reset the context; the same prompts play the same
  session.close();
});

test('the same prompts give the same audio, other prompts other audio', async () => {
  async function firstChunk(weightedPrompts) {
    const { session, next, chunks } = await open();
    await next();
    await session.setWeightedPrompts({ weightedPrompts });
    session.play();
    const [chunk] = await chunks(1);
    session.close();
    return chunk.data;
  }
  const techno = await firstChunk(TECHNO);
  assert.equal(await firstChunk([{ text: 'minimal techno', weight: 4 }]), techno);   // weights are normalised
  assert.notEqual(await firstChunk([{ text: 'ambient strings', weight: 1 }]), techno);
});

test('errors close the session with their code and a reason naming the field', async () => {
  const bad = await open();
  await bad.next();
  await bad.session.setMusicGenerationConfig({ musicGenerationConfig: { bpm: 300 } });
  const event = await bad.closed;
  assert.equal(event.code, 1007);
  assert.match(event.reason, /musicGenerationConfig\.bpm must be an integer from 60 to 200/);

  const unknown = await open('models/gemini-2.5-flash');
  const refused = await unknown.closed;
  assert.equal(refused.code, 1008);
  assert.match(refused.reason, /bidiGenerateMusic/);
});
