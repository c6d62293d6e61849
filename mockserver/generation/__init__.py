"""Deterministic fakes of what the model produces: text, structured output, function calls, thoughts,
token counts, audio durations and embeddings. Pure Python, no HTTP.

    engine.py      generate_content, stream_chunks, count_tokens, embed_content, batch_embed_contents
    counting.py    prompt token counts per modality (count_contents, Counts)
    tokens.py      the text tokenizer (count_text, split_text, truncate_text)
    media.py       token cost of images, audio, video, PDFs and text files (MediaInfo, describe_media)
    audio.py       audio durations with mutagen (duration_seconds, AUDIO_MIME_TYPES)
    text.py        readable pseudo-text from a seed
    structured.py  JSON values valid against a schema (value_for_schema) and schema checks
    embeddings.py  embedding vectors (embed_text)
"""
from .counting import Counts, count_contents
from .engine import batch_embed_contents, count_tokens, embed_content, generate_content, stream_chunks
from .media import MediaInfo, describe_media

__all__ = ["Counts", "MediaInfo", "batch_embed_contents", "count_contents", "count_tokens", "describe_media",
           "embed_content", "generate_content", "stream_chunks"]
