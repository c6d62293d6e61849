// Music generation with the Lyria 3 models driven by the @google/genai JavaScript SDK, as the music
// generation guide's JavaScript samples do it (generateContent parts; interactions.create's output_audio).
// Run by tests/clients/test_js_lyria.py, which starts the emulator and passes:
//   GEMINI_MOCK_BASE_URL  the emulator's address
//   GEMINI_MOCK_API_KEY   the key of a fresh project
//   GEMINI_MOCK_EXPECTED  JSON {prompt, lyrics, audioSha256}: the Python SDK's answer to `prompt` on the clip model
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { GoogleGenAI } from '@google/genai';

const baseUrl = process.env.GEMINI_MOCK_BASE_URL;
const apiKey = process.env.GEMINI_MOCK_API_KEY;
if (!baseUrl || !apiKey) {
  throw new Error('GEMINI_MOCK_BASE_URL and GEMINI_MOCK_API_KEY must be set (tests/clients/test_js_lyria.py sets them)');
}
const expected = JSON.parse(process.env.GEMINI_MOCK_EXPECTED);
const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl } });

const sha256 = (buffer) => createHash('sha256').update(buffer).digest('hex');

test('generateContent answers the lyrics, then the MP3 the Python SDK got', async () => {
  const response = await ai.models.generateContent({ model: 'lyria-3-clip-preview', contents: expected.prompt });
  const [lyrics, audio] = response.candidates[0].content.parts;
  assert.equal(lyrics.text, expected.lyrics);
  assert.equal(audio.inlineData.mimeType, 'audio/mpeg');
  assert.equal(sha256(Buffer.from(audio.inlineData.data, 'base64')), expected.audioSha256);
});

test('interactions.create gives output_audio and the lyrics as output_text', async () => {
  const interaction = await ai.interactions.create({ model: 'lyria-3-clip-preview', input: expected.prompt });
  assert.equal(interaction.status, 'completed');
  assert.equal(interaction.output_audio.mime_type, 'audio/mpeg');
  assert.equal(sha256(Buffer.from(interaction.output_audio.data, 'base64')), expected.audioSha256);
  assert.equal(interaction.output_text, expected.lyrics);
});

test('a tool on a music model is refused naming the field', async () => {
  await assert.rejects(
    ai.interactions.create({ model: 'lyria-3.5', input: 'A song',
      tools: [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' } }] }),
    (error) => error.status === 400 && /tools/.test(JSON.stringify(error.error ?? error.message)));
});
