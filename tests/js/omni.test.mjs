// Gemini Omni Flash driven by the @google/genai JavaScript SDK, as the Omni guide's JavaScript samples do.
// Run by tests/clients/test_js_omni.py, which starts the emulator and passes:
//   GEMINI_MOCK_BASE_URL  the emulator's address
//   GEMINI_MOCK_API_KEY   the key of a fresh project
//   GEMINI_MOCK_EXPECTED  JSON {prompt, sha256}: the digest of the Python SDK's video for `prompt` at 360p
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) {
  throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set (tests/clients/test_js_omni.py sets them)');
}
const expected = JSON.parse(process.env.GEMINI_MOCK_EXPECTED);
const MODEL = 'gemini-omni-1.1-flash';
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });

function mp4Size(bytes) {
  const at = bytes.indexOf('tkhd');
  return [bytes.readUInt32BE(at + 80) >>> 16, bytes.readUInt32BE(at + 84) >>> 16];
}

test('interactions.create answers the same video in output_video as the Python SDK got', async () => {
  const interaction = await ai.interactions.create({
    model: MODEL, input: expected.prompt, response_format: { type: 'video', resolution: '360p' },
  });
  assert.equal(interaction.output_video?.mime_type, 'video/mp4');
  const bytes = Buffer.from(interaction.output_video.data, 'base64');
  assert.equal(createHash('sha256').update(bytes).digest('hex'), expected.sha256);
  assert.deepEqual(mp4Size(bytes), [640, 360]);
});

test('previous_interaction_id edits the video, keeping its size', async () => {
  const first = await ai.interactions.create({
    model: MODEL, input: expected.prompt, response_format: { type: 'video', resolution: '360p', aspect_ratio: '9:16' },
  });
  const edit = await ai.interactions.create({
    model: MODEL, input: 'Make this video anime.', previous_interaction_id: first.id,
  });
  assert.notEqual(edit.output_video.data, first.output_video.data);
  assert.deepEqual(mp4Size(Buffer.from(edit.output_video.data, 'base64')), [360, 640]);
});

test('an unsupported resolution is a 400', async () => {
  await assert.rejects(
    ai.interactions.create({ model: MODEL, input: expected.prompt, response_format: { type: 'video', resolution: '240p' } }),
    (error) => error.status === 400 && /response_format\.resolution/.test(error.message),
  );
});
