"""Unit tests of the function-call heuristic: which functions the prompt points at, and the arguments it gives."""
from __future__ import annotations

import random

import jsonschema
import pytest

from gemini_mockserver.generation import function_calls
from gemini_mockserver.generation.validation import Plan


def fn(name: str, description: str, properties: dict, required: list[str] | None = None,
       json_schema: bool = False) -> dict:
    schema = {"type": "object" if json_schema else "OBJECT", "properties": properties,
              "required": required or list(properties)}
    return {"name": name, "description": description,
            ("parametersJsonSchema" if json_schema else "parameters"): schema}


S, N, B, I = {"type": "STRING"}, {"type": "NUMBER"}, {"type": "BOOLEAN"}, {"type": "INTEGER"}
# the cookbook's Function_calling quickstart declarations
MOVIES = [fn("find_movies", "find movie titles currently playing in theaters based on any description, genre, title "
                            "words, etc.", {"description": S, "location": S}, ["description"]),
          fn("find_theaters", "Find theaters based on location and optionally movie title which are is currently "
                              "playing in theaters.", {"location": S, "movie": S}, ["location"]),
          fn("get_showtimes", "Find the start times for movies playing in a specific theater.",
             {"location": S, "movie": S, "theater": S, "date": S})]
PARTY = [fn("power_disco_ball", "Powers the spinning disco ball.", {"power": B}),
         fn("start_music", "Play some music matching the specified parameters.", {"energetic": B, "loud": B, "bpm": I},
            ["energetic", "loud"]),
         fn("dim_lights", "Dim the lights.", {"brightness": N})]
HOME = [fn("switch_lights", "Turn the room lights on or off.", {"on": B}),
        fn("play_music", "Play music of a genre.", {"genre": {"type": "STRING", "enum": ["jazz", "rock", "pop"]}}),
        fn("get_weather", "The weather of a city.", {"city": S})]
LIGHT = fn("set_light_values", "Sets the brightness and color temperature of a light.",
           {"brightness": {"type": "integer", "minimum": 0, "maximum": 100},
            "color_temp": {"type": "string", "enum": ["daylight", "cool", "warm"]}}, json_schema=True)


def plan(declarations: list[dict], mode: str = "AUTO", allowed: tuple[str, ...] | None = None) -> Plan:
    return Plan(mode=mode, declarations=tuple(declarations), allowed=allowed)


def calls(declarations: list[dict], prompt: str, mode: str = "AUTO", allowed: tuple[str, ...] | None = None,
          answered: bool = False, seed: int = 1) -> list[tuple[str, dict]]:
    chosen = plan(declarations, mode, allowed)
    made = []
    for decl, text in function_calls.choose_calls(chosen, prompt, answered, random.Random(seed)):
        args = function_calls.call_args(chosen, decl, random.Random(seed), [], text)
        made.append((decl["name"], args))
    return made


def test_the_function_the_prompt_names_or_describes_is_called_with_the_prompts_values():
    assert calls(MOVIES, "Which theaters in Mountain View show the Barbie movie?") == [
        ("find_theaters", {"location": "Mountain View", "movie": "Barbie"})]
    assert calls(HOME, "Call get_weather for \"Rio de Janeiro\"") == [("get_weather", {"city": "Rio de Janeiro"})]


def test_several_actions_make_parallel_calls_in_the_prompts_order():
    assert calls(HOME, "turn on the lights and play some jazz") == [
        ("switch_lights", {"on": True}), ("play_music", {"genre": "jazz"})]
    made = calls(PARTY, "Turn on the disco ball, play some loud music at 120 bpm and dim the lights to 0.3")
    assert [name for name, _ in made] == ["power_disco_ball", "start_music", "dim_lights"]
    assert made[0][1] == {"power": True} and made[1][1]["bpm"] == 120 and made[1][1]["loud"] is True
    assert made[2][1] == {"brightness": 0.3}


def test_one_function_twice_only_for_different_values_of_the_same_parameters():
    assert calls(HOME, "What's the weather in Paris and the weather in London?") == [
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "London"})]
    # two clauses about one function with different parameters are one call with both values
    assert calls([LIGHT], "Dim the lights so the room feels warm, brightness 30") == [
        ("set_light_values", {"brightness": 30, "color_temp": "warm"})]
    assert calls(HOME, "What is the weather in Paris? Call get_weather.") == [("get_weather", {"city": "Paris"})]


def test_auto_answers_in_text_without_a_match_or_after_a_function_response():
    assert calls(HOME, "Tell me a joke about penguins") == []
    assert calls(HOME, "turn on the lights", answered=True) == []
    assert calls(HOME, "turn on the lights", mode="NONE") == []


def test_any_always_calls_and_keeps_to_the_allowed_names():
    assert len(calls(HOME, "Tell me a joke about penguins", mode="ANY")) == 1
    assert calls(HOME, "turn on the lights and play some jazz", mode="ANY", allowed=("play_music",)) == [
        ("play_music", {"genre": "jazz"})]
    for seed in range(10):
        [(name, _)] = calls(HOME, "Tell me a joke", mode="ANY", allowed=("get_weather", "play_music"), seed=seed)
        assert name in ("get_weather", "play_music")


def test_values_outside_the_schema_are_not_taken_from_the_prompt():
    [(_, args)] = calls([LIGHT], "Set the light brightness to 250 and make it warm")
    assert args["color_temp"] == "warm" and args["brightness"] != 250
    jsonschema.validate(args, LIGHT["parametersJsonSchema"])
    [(_, args)] = calls([LIGHT], "Set the light brightness to 42.5")
    assert args["brightness"] != 42.5 and isinstance(args["brightness"], int)
    assert function_calls.prompt_values(LIGHT, "Lights at 40 percent, cool please") == {
        "brightness": 40, "color_temp": "cool"}


@pytest.mark.parametrize("prompt, expected", [
    ("Multiply 57 by 44", {"a": 57, "b": 44}),
    ("multiply b 3 with a 9", {"a": 9, "b": 3}),      # a number next to a parameter's name goes to it
])
def test_numbers_fill_numeric_parameters(prompt, expected):
    multiply = fn("multiply", "returns a * b.", {"a": N, "b": N})
    assert calls([multiply], prompt) == [("multiply", expected)]


def test_switches_read_off_on_and_the_parameters_own_name():
    assert calls(HOME, "switch off the lights") == [("switch_lights", {"on": False})]
    made = dict(calls(PARTY, "start the music, not loud"))
    assert made["start_music"]["loud"] is False
    made = dict(calls(PARTY, "play some energetic music"))
    assert made["start_music"]["energetic"] is True


def test_the_same_request_gives_the_same_calls():
    prompt = "Turn on the disco ball and play some music"
    assert calls(PARTY, prompt, seed=3) == calls(PARTY, prompt, seed=3)


def test_clauses_split_at_commas_conjunctions_and_sentence_ends():
    assert function_calls.clauses("Turn on the lights, then play jazz. Also dim 2.5 and stop") == [
        "Turn on the lights", "play jazz", "dim 2.5", "stop"]
