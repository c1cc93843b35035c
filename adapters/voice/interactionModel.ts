import { readFileSync } from 'node:fs';

/** The shipped en-US interaction model (paste into the Alexa developer console, or deploy with the ASK CLI). */
export const INTERACTION_MODEL_PATH = new URL(
  './skill-package/interactionModels/custom/en-US.json',
  import.meta.url,
);

export interface InteractionModel {
  interactionModel: {
    languageModel: {
      invocationName: string;
      intents: { name: string; slots?: { name: string; type: string }[]; samples: string[] }[];
      types: { name: string; values: { id?: string; name: { value: string; synonyms?: string[] } }[] }[];
    };
  };
}

/** Reads the shipped interaction model. */
export function readInteractionModel(): InteractionModel {
  return JSON.parse(readFileSync(INTERACTION_MODEL_PATH, 'utf8')) as InteractionModel;
}
