"""The File Search quickstart (https://ai.google.dev/gemini-api/docs/file-search, Python) as written: a plain
`genai.Client()` (the plugin points the SDK's environment at the emulator), a store, a direct upload polled
to completion, the import path from the Files API, and a generateContent call with the fileSearch tool."""
from __future__ import annotations

import time

from google import genai
from google.genai import types


def test_the_quickstart_runs_as_written(gemini_mock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample.txt").write_text("The Moon orbits the Earth every 27.3 days. Its surface is covered in "
                                         "craters made by ancient impacts.")
    client = genai.Client()

    # File name will be visible in citations
    file_search_store = client.file_search_stores.create(
        config={
            'display_name': 'your-fileSearchStore-name',
            'embedding_model': 'models/gemini-embedding-2'
        }
    )

    operation = client.file_search_stores.upload_to_file_search_store(
        file='sample.txt',
        file_search_store_name=file_search_store.name,
        config={
            'display_name': 'display-file-name',
        }
    )

    while not operation.done:
        time.sleep(5)
        operation = client.operations.get(operation)

    # the import path: a Files API file imported into the store
    sample_file = client.files.upload(file='sample.txt', config={'name': 'display-file-name'})
    operation = client.file_search_stores.import_file(
        file_search_store_name=file_search_store.name,
        file_name=sample_file.name
    )
    while not operation.done:
        time.sleep(5)
        operation = client.operations.get(operation)

    response = client.models.generate_content(
        model="gemini-3-flash-preview",
        contents="""Can you tell me about the Moon's orbit?""",
        config=types.GenerateContentConfig(
            tools=[
                types.Tool(
                    file_search=types.FileSearch(
                        file_search_store_names=[file_search_store.name]
                    )
                )
            ]
        )
    )

    print(response.text)
    assert response.text.startswith("The Moon orbits the Earth every 27.3 days.")
    grounding = response.candidates[0].grounding_metadata
    assert {c.retrieved_context.title for c in grounding.grounding_chunks} == {"display-file-name"}
    assert {d.display_name for d in client.file_search_stores.documents.list(parent=file_search_store.name)} \
        == {"display-file-name"}
    assert file_search_store.embedding_model == 'models/gemini-embedding-2'
    assert not gemini_mock.store.internal_errors
