import { OmakaseError } from './omakaseError.ts';

/**
 * The model layer's error codes. The key is the code; retired codes are never reused.
 * Add a code here before throwing it.
 */
export const MODEL_ERRORS = {
  MODEL_NOT_FOUND: 'The model directory, model.onnx or model-card.json does not exist.',
  MODEL_LOAD_FAILED: 'The model file cannot be read or ONNX Runtime rejects it as a model.',
  MODEL_SCHEMA_MISMATCH:
    "The model's inputs, outputs, shapes or schema version differ from the feature schema the engine writes.",
  MODEL_HASH_MISMATCH: 'The sha256 of model.onnx differs from the one recorded in its model card.',
  MODEL_CARD_INVALID: 'The model card is not valid JSON or a field is missing or of the wrong type.',
  MODEL_RUN_FAILED: 'ONNX Runtime failed while scoring a batch, or the batch has the wrong length.',
  MODEL_TRAINING_FAILED:
    'Training cannot start or diverged: no positives, no negatives, malformed data, or a NaN loss.',
} as const;

export type ModelErrorCode = keyof typeof MODEL_ERRORS;

/** Builds an OmakaseError with a code from MODEL_ERRORS. */
export function modelError(
  code: ModelErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): OmakaseError {
  return new OmakaseError(code, message, options);
}
