"""convai-ops: GitOps for ElevenLabs voice agents.

Keep each agent's prompt, settings, knowledge-base references and tests as YAML in git;
``convai-ops plan`` shows how the live agents differ, ``convai-ops apply`` stages the change on a
new agent branch, runs the agent's tests there and merges into main only when every test passes.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
