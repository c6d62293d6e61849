"""Managed agents: `/{version}/agents` list, get, create, delete, and the Deep Research agent's runs.

Paths from google-genai 3.6.1 (`_gaos/agents.py`: GET/POST /agents, GET/DELETE /agents/{id}); the Agent
fields (`id`, `description`, `base_agent`, `system_instruction`, `tools`) from `_gaos/types/agents/agent.py`;
the Deep Research ids from the `agent` literal of `CreateAgentInteraction`. As the Deep Research page
(ai.google.dev/gemini-api/docs/deep-research, read 2026-12) describes, the agent runs only in the background
(`background=true`), plans, searches and reads, then writes a report with citations. Here it is one run of the
generation engine on its backing model with search and URL context on and thought summaries shown: the plan
is the thought step, then the search call and result steps, then the cited report; the run takes
`interactions.deepResearchSeconds` on the emulator's clock. A created agent runs its `base_agent` with its
own system instruction.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ... import inference
from ...auth import Identity
from ...errors import ApiError, invalid_argument
from ...http import Context, dumps, json_response, parse_json
from . import convert

if TYPE_CHECKING:
    from ...store import Store

# The catalog model the Deep Research agents run on (the agent page: built on Gemini 3 Pro).
BACKING_MODEL = "gemini-3.1-pro-preview"
DEEP_RESEARCH = {
    "deep-research-pro-preview-12-2025": "Deep Research: plans, searches the web and reads sources, then "
                                         "writes a cited report.",
    "deep-research-preview-04-2026": "Deep Research (April 2026): plans, searches and reads, then writes a "
                                     "cited report.",
    "deep-research-max-preview-04-2026": "Deep Research Max: the most thorough research runs, with a cited "
                                         "report.",
}


def missing(agent_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"Agent {agent_id} was not found.")


class Agents:
    """The built-in agents and each project's created ones. Registered as `store.agents`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._created: dict[str, dict[str, dict[str, Any]]] = {}

    def reset(self) -> None:
        with self.lock:
            self._created.clear()

    def list(self, project: str) -> list[dict[str, Any]]:
        built_in = [{"id": agent_id, "description": text} for agent_id, text in DEEP_RESEARCH.items()]
        with self.lock:
            return built_in + [dict(a) for a in self._created.get(project, {}).values()]

    def get(self, project: str, agent_id: str) -> dict[str, Any]:
        if agent_id in DEEP_RESEARCH:
            return {"id": agent_id, "description": DEEP_RESEARCH[agent_id]}
        with self.lock:
            agent = self._created.get(project, {}).get(agent_id)
        if agent is None:
            raise missing(agent_id)
        return dict(agent)

    def create(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        base = body.get("base_agent")
        if base not in DEEP_RESEARCH:
            raise invalid_argument(f"base_agent must be one of {', '.join(DEEP_RESEARCH)}, got {base!r}.",
                                   "base_agent")
        agent_id = body.get("id") or self.store.new_id(project, "agent")
        if not isinstance(agent_id, str) or agent_id in DEEP_RESEARCH:
            raise invalid_argument(f"id {agent_id!r} is not an id a new agent can take.", "id")
        agent = {key: body[key] for key in ("description", "system_instruction", "tools") if body.get(key)}
        agent |= {"id": agent_id, "base_agent": base}
        with self.lock:
            group = self._created.setdefault(project, {})
            if agent_id in group:
                raise ApiError(409, "ALREADY_EXISTS", f"Agent {agent_id} already exists.")
            group[agent_id] = agent
        self.store.changed()
        return dict(agent)

    def delete(self, project: str, agent_id: str) -> None:
        with self.lock:
            removed = self._created.get(project, {}).pop(agent_id, None)
        if removed is None:
            raise missing(agent_id)
        self.store.changed()

    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {"created": {p: list(group.values()) for p, group in self._created.items()}}

    def import_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._created = {p: {a["id"]: a for a in agents} for p, agents in (data.get("created") or {}).items()}


def run(store: Store, identity: Identity, body: dict[str, Any], contents: list[dict[str, Any]]
        ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]], float]:
    """One agent run for Interactions.create: its steps, usage, conversation and duration."""
    agent = store.agents.get(identity.project, str(body["agent"]))
    if not body.get("background"):
        raise invalid_argument("Agent interactions run in the background: set background=true.", "background")
    request: dict[str, Any] = {"contents": contents, "tools": [{"googleSearch": {}}, {"urlContext": {}}],
                               "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    system = agent.get("system_instruction") or body.get("system_instruction")
    if system:
        request["systemInstruction"] = {"parts": [{"text": str(system)}]}
    model = store.models.get(BACKING_MODEL, "generateContent", "v1beta")
    response = inference.generate(store, identity, model, request)
    steps = convert.output_steps(response)
    seconds = float(store.config["interactions"]["deepResearchSeconds"])
    return steps, convert.usage(response.get("usageMetadata")), contents + convert.model_contents(steps), seconds


# -- HTTP skin --------------------------------------------------------------------------------------

async def list_agents(ctx: Context) -> Response:
    return json_response({"agents": ctx.store.agents.list(ctx.project)})


async def get_agent(ctx: Context) -> Response:
    return json_response(ctx.store.agents.get(ctx.project, ctx.params["id"]))


async def create_agent(ctx: Context) -> Response:
    body = parse_json(await ctx.body())
    if not isinstance(body, dict):
        raise invalid_argument("The request body must be a JSON object.")
    return json_response(ctx.store.agents.create(ctx.project, body))


async def delete_agent(ctx: Context) -> Response:
    ctx.store.agents.delete(ctx.project, ctx.params["id"])
    return Response(dumps({}), media_type="application/json")
