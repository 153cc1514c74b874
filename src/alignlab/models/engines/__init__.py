"""Local inference engines behind the model names: OpenVINO GenAI on the CPU, transformers as the fallback,
vLLM on GPUs. Import the modules themselves (``engines.openvino`` loads the OpenVINO runtime); this face only
names the cheap engine choice.
"""

from alignlab.models.engines.choice import EngineChoice, EngineName, Precision, choose_engine, engine_model_args

__all__ = ["EngineChoice", "EngineName", "Precision", "choose_engine", "engine_model_args"]
