"""LLM players through litellm: model configuration, prompts, structured answers, the calls
themselves, and a fake OpenAI-compatible server for tests and benchmarks."""
