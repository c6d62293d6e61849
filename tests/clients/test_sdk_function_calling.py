"""Function calling through google-genai and openai as the cookbook's Function_calling quickstart uses it:
functions picked from the prompt's words, parallel calls, allowed names, arguments from the prompt, and the
SDK's automatic function calling running the calls and sending the results back."""
from __future__ import annotations

import json

import openai
import pytest
from google.genai import types

MODEL = "gemini-3.6-flash"
PARTY_PROMPT = "Turn on the disco ball, play some loud music at 120 bpm and dim the lights to 0.3"


def _party(record: list):
    def power_disco_ball(power: bool) -> bool:
        """Powers the spinning disco ball."""
        record.append(("power_disco_ball", {"power": power}))
        return True

    def start_music(energetic: bool, loud: bool, bpm: int) -> str:
        """Play some music matching the specified parameters.

        Args:
          energetic: Whether the music is energetic or not.
          loud: Whether the music is loud or not.
          bpm: The beats per minute of the music.
        """
        record.append(("start_music", {"energetic": energetic, "loud": loud, "bpm": bpm}))
        return "Never gonna give you up."

    def dim_lights(brightness: float) -> bool:
        """Dim the lights.

        Args:
          brightness: The brightness of the lights, 0.0 is off, 1.0 is full.
        """
        record.append(("dim_lights", {"brightness": brightness}))
        return True
    return [power_disco_ball, start_music, dim_lights]


def test_automatic_function_calling_runs_the_parallel_calls_and_gets_an_answer(beta_client):
    record: list = []
    response = beta_client.models.generate_content(
        model=MODEL, contents=PARTY_PROMPT, config=types.GenerateContentConfig(tools=_party(record)))
    assert [name for name, _ in record] == ["power_disco_ball", "start_music", "dim_lights"]
    assert record[0][1] == {"power": True} and record[2][1] == {"brightness": 0.3}
    assert record[1][1]["loud"] is True and record[1][1]["bpm"] == 120
    assert response.text and not response.function_calls
    history = response.automatic_function_calling_history
    assert [len(c.parts) for c in history[1:]] == [3, 3]      # one model turn of three calls, three results
    assert [p.function_response.name for p in history[2].parts] == [name for name, _ in record]


def test_manual_calls_name_the_function_and_take_the_prompts_values(beta_client):
    def find_movies(description: str, location: str = "") -> list[str]:
        """find movie titles currently playing in theaters based on any description, genre, title words, etc.

        Args:
            description: Any kind of description including category or genre, title words, attributes, etc.
            location: The city and state, e.g. San Francisco, CA or a zip code e.g. 95616
        """
        return ["Barbie", "Oppenheimer"]

    def find_theaters(location: str, movie: str = "") -> list[str]:
        """Find theaters based on location and optionally movie title which are is currently playing in theaters.

        Args:
            location: The city and state, e.g. San Francisco, CA or a zip code e.g. 95616
            movie: Any movie title
        """
        return ["Googleplex 16", "Android Theatre"]

    config = types.GenerateContentConfig(
        tools=[find_movies, find_theaters],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    response = beta_client.models.generate_content(
        model=MODEL, contents="Which theaters in Mountain View show the Barbie movie?", config=config)
    [call] = response.function_calls
    assert call.name == "find_theaters" and call.args == {"location": "Mountain View", "movie": "Barbie"}
    assert response.candidates[0].content.parts[0].thought_signature   # Gemini 3 signs the call


def test_mode_any_with_allowed_names_calls_only_those(beta_client):
    declarations = [types.FunctionDeclaration(name="switch_lights", description="Turn the room lights on or off.",
                                              parameters={"type": "OBJECT", "properties": {"on": {"type": "BOOLEAN"}},
                                                          "required": ["on"]}),
                    types.FunctionDeclaration(name="play_music", description="Play music of a genre.",
                                              parameters={"type": "OBJECT", "properties": {"genre": {
                                                  "type": "STRING", "enum": ["jazz", "rock", "pop"]}},
                                                  "required": ["genre"]})]

    def ask(calling: types.FunctionCallingConfig) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=declarations)],
                                             tool_config=types.ToolConfig(function_calling_config=calling))
        return beta_client.models.generate_content(model=MODEL, contents="turn on the lights and play some jazz",
                                                   config=config)
    both = ask(types.FunctionCallingConfig(mode="AUTO")).function_calls
    assert [(c.name, c.args) for c in both] == [("switch_lights", {"on": True}), ("play_music", {"genre": "jazz"})]
    only = ask(types.FunctionCallingConfig(mode="ANY", allowed_function_names=["play_music"])).function_calls
    assert [(c.name, c.args) for c in only] == [("play_music", {"genre": "jazz"})]


def test_openai_layer_answers_parallel_tool_calls(gemini_mock):
    client = openai.OpenAI(api_key=gemini_mock.api_key, base_url=gemini_mock.base_url + "/v1beta/openai/",
                           max_retries=0)
    tools = [{"type": "function", "function": {"name": name, "description": text, "parameters": {
        "type": "object", "properties": {key: schema}, "required": [key]}}}
        for name, text, key, schema in (
            ("get_weather", "The weather of a city.", "city", {"type": "string"}),
            ("play_music", "Play music of a genre.", "genre", {"type": "string", "enum": ["jazz", "rock"]}))]
    answer = client.chat.completions.create(model=MODEL, tools=tools, messages=[
        {"role": "user", "content": "What's the weather in Oslo, and play some rock"}])
    calls = answer.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Oslo"}), ("play_music", {"genre": "rock"})]
    assert len({c.id for c in calls}) == 2 and answer.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("prompt", ["Tell me a joke about penguins", "Hello there"])
def test_auto_answers_in_text_when_the_prompt_asks_for_no_function(beta_client, prompt):
    record: list = []
    response = beta_client.models.generate_content(
        model=MODEL, contents=prompt, config=types.GenerateContentConfig(tools=_party(record)))
    assert record == [] and response.text and not response.function_calls
