"""Podcast notes: show notes, season outlines and Q&A for a podcast, written with the Gemini API.

The application builds its client with `genai.Client()`: the API key and the endpoint come from the
environment (GEMINI_API_KEY or GOOGLE_API_KEY, and GOOGLE_GEMINI_BASE_URL when not the real API).
Every function also takes a `client=` for callers that already have one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from google import genai
from google.genai import types
from pydantic import BaseModel

MODEL = "gemini-2.5-flash"
FINISHED = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}


class ShowNotes(BaseModel):
    title: str
    highlights: list[str]


@dataclass
class EpisodeNotes:
    file_name: str
    notes: ShowNotes
    prompt_tokens: int


class BatchFailed(RuntimeError):
    pass


def make_client() -> genai.Client:
    return genai.Client()


def summarise(text: str, *, client: genai.Client | None = None) -> str:
    """A one-paragraph summary of `text`."""
    client = client or make_client()
    response = client.models.generate_content(
        model=MODEL, contents=f"Summarise this in one paragraph:\n\n{text}",
        config=types.GenerateContentConfig(temperature=0.2, max_output_tokens=256,
                                           thinking_config=types.ThinkingConfig(thinking_budget=0)))
    return response.text


async def summarise_async(text: str, *, client: genai.Client | None = None) -> str:
    """`summarise` on the asyncio client."""
    client = client or make_client()
    response = await client.aio.models.generate_content(
        model=MODEL, contents=f"Summarise this in one paragraph:\n\n{text}")
    return response.text


def upload_episode(path: str | Path, *, client: genai.Client | None = None,
                   sleep: Callable[[float], object] = time.sleep, poll_seconds: float = 2.0) -> types.File:
    """Upload an episode's audio and wait until the API has processed it."""
    client = client or make_client()
    uploaded = client.files.upload(file=str(path), config={"mime_type": "audio/wav",
                                                           "display_name": Path(path).name})
    while uploaded.state == types.FileState.PROCESSING:
        sleep(poll_seconds)
        uploaded = client.files.get(name=uploaded.name)
    if uploaded.state != types.FileState.ACTIVE:
        raise RuntimeError(f"{uploaded.name} could not be processed: {uploaded.error}")
    return uploaded


def show_notes(path: str | Path, *, client: genai.Client | None = None,
               sleep: Callable[[float], object] = time.sleep) -> EpisodeNotes:
    """Upload an episode and write its show notes (a title and highlights, as JSON)."""
    client = client or make_client()
    audio = upload_episode(path, client=client, sleep=sleep)
    response = client.models.generate_content(
        model=MODEL,
        contents=[types.Part.from_uri(file_uri=audio.uri, mime_type=audio.mime_type),
                  "Write show notes for this episode: a title and three highlights."],
        config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=ShowNotes))
    return EpisodeNotes(audio.name, response.parsed, response.usage_metadata.prompt_token_count)


def start_season_outline(summaries: list[str], *, client: genai.Client | None = None) -> str:
    """Start a batch job that outlines each episode; returns the job's name."""
    client = client or make_client()
    job = client.batches.create(
        model=MODEL,
        src=[{"contents": [{"role": "user", "parts": [{"text": f"Outline this episode: {s}"}]}]}
             for s in summaries],
        config={"display_name": "season-outline"})
    return job.name


def collect_season_outline(name: str, *, client: genai.Client | None = None,
                           sleep: Callable[[float], object] = time.sleep, poll_seconds: float = 30.0,
                           max_polls: int = 1000) -> list[str]:
    """Wait for the batch job `name` and return one outline per episode."""
    client = client or make_client()
    for _ in range(max_polls):
        job = client.batches.get(name=name)
        if job.state.name in FINISHED:
            break
        sleep(poll_seconds)
    else:
        raise TimeoutError(f"{name} is still {job.state.name}")
    if job.state.name != "JOB_STATE_SUCCEEDED":
        raise BatchFailed(f"{name} ended {job.state.name}")
    return [item.response.text for item in job.dest.inlined_responses]


def outline_season(summaries: list[str], *, client: genai.Client | None = None,
                   sleep: Callable[[float], object] = time.sleep) -> list[str]:
    client = client or make_client()
    return collect_season_outline(start_season_outline(summaries, client=client), client=client, sleep=sleep)


def cache_transcript(transcript: str, *, client: genai.Client | None = None, ttl: str = "600s") -> str:
    """Put a transcript in a context cache; returns the cache's name."""
    client = client or make_client()
    cache = client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
        display_name="transcript", ttl=ttl,
        system_instruction="You answer questions about this podcast transcript.",
        contents=[types.Content(role="user", parts=[types.Part(text=transcript)])]))
    return cache.name


def answer_questions(transcript: str, questions: list[str], *,
                     client: genai.Client | None = None) -> tuple[list[str], int]:
    """Answer questions about a transcript through a context cache (deleted afterwards).
    Returns the answers and how many prompt tokens the cache saved."""
    client = client or make_client()
    name = cache_transcript(transcript, client=client)
    try:
        answers, cached = [], 0
        for question in questions:
            response = client.models.generate_content(
                model=MODEL, contents=question, config=types.GenerateContentConfig(cached_content=name))
            answers.append(response.text)
            cached += response.usage_metadata.cached_content_token_count or 0
        return answers, cached
    finally:
        client.caches.delete(name=name)
