import type { InteractionModel } from './interactionModel.ts';

/** An utterance understood as Alexa would send it: a launch, or an intent with its slots. */
export type Understood =
  | { type: 'LaunchRequest' }
  | {
      type: 'IntentRequest';
      intent: string;
      /** Slot → what was heard, and the slot type's canonical value when a synonym matched. */
      slots: Record<string, { heard: string; resolved?: string }>;
    };

/**
 * Samples for the built-in intents, which the interaction model leaves to Alexa (it knows "next", "pause"...
 * in every locale). Only what a terminal demo needs.
 */
const BUILT_IN_SAMPLES: Record<string, string[]> = {
  'AMAZON.NextIntent': ['next', 'skip', 'skip this', 'skip it', 'next song', 'skip this song'],
  'AMAZON.PauseIntent': ['pause', 'pause the music', 'pause this'],
  'AMAZON.ResumeIntent': ['resume', 'continue', 'unpause', 'resume the music'],
  'AMAZON.StopIntent': ['stop', 'stop the music', 'quit', 'turn it off'],
  'AMAZON.CancelIntent': ['cancel'],
  'AMAZON.StartOverIntent': ['start over', 'restart', 'play it from the start'],
  'AMAZON.HelpIntent': ['help', 'what can i say'],
  'AMAZON.PreviousIntent': ['previous', 'go back', 'previous song'],
  'AMAZON.ShuffleOnIntent': ['shuffle'],
  'AMAZON.RepeatIntent': ['repeat'],
};
const LAUNCH = ['open omakase radio', 'open', 'launch', 'launch omakase radio', 'start omakase radio'];

/** Lower-case words, apostrophes kept ("don't"), other punctuation gone. */
const tidy = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

interface Pattern {
  intent: string;
  regex: RegExp;
  slots: string[];
  /** Literal characters: a sample with more of them is more specific and is tried first. */
  literal: number;
}

/**
 * Turns typed text into the request Alexa would send for it, with the interaction model's own sample
 * utterances as the grammar (exact samples first, then samples with slots, most specific first) and its
 * slot types' synonyms as entity resolution. Undefined when nothing matches (Alexa's FallbackIntent).
 */
export function createUtteranceMatcher(
  model: InteractionModel,
): (utterance: string) => Understood | undefined {
  const { intents, types } = model.interactionModel.languageModel;
  const exact = new Map<string, string>();
  for (const text of LAUNCH) exact.set(text, 'LaunchRequest');
  const patterns: Pattern[] = [];
  const slotTypes = new Map<string, Map<string, Map<string, string>>>();
  const synonyms = new Map<string, Map<string, string>>();
  for (const type of types) {
    const heardToValue = new Map<string, string>();
    for (const { name } of type.values) {
      heardToValue.set(tidy(name.value), name.value);
      for (const synonym of name.synonyms ?? []) heardToValue.set(tidy(synonym), name.value);
    }
    synonyms.set(type.name, heardToValue);
  }
  const all = [
    ...intents.map((i) => ({ name: i.name, samples: i.samples, slots: i.slots ?? [] })),
    ...Object.entries(BUILT_IN_SAMPLES).map(([name, samples]) => ({ name, samples, slots: [] })),
  ];
  for (const intent of all) {
    const typeOf = new Map(intent.slots.map((s) => [s.name, s.type]));
    slotTypes.set(
      intent.name,
      new Map([...typeOf].map(([slot, type]) => [slot, synonyms.get(type) ?? new Map()])),
    );
    for (const sample of intent.samples) {
      const text = tidy(sample.replace(/\{(\w+)\}/g, ' SLOT$1SLOT '));
      if (!text.includes('slot')) {
        if (!exact.has(text)) exact.set(text, intent.name);
        continue;
      }
      const slots: string[] = [];
      const source = text
        .split(' ')
        .map((word) => {
          const slot = /^slot(\w+)slot$/.exec(word);
          if (!slot) return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          slots.push(intent.slots.find((s) => s.name.toLowerCase() === slot[1])?.name ?? slot[1]);
          return '(.+?)';
        })
        .join(' ');
      patterns.push({
        intent: intent.name,
        regex: new RegExp(`^${source}$`, 'u'),
        slots,
        literal: text.replace(/slot\w+slot/g, '').replace(/\s/g, '').length,
      });
    }
  }
  patterns.sort((a, b) => b.literal - a.literal);

  return (utterance) => {
    const said = tidy(utterance);
    if (said === '') return undefined;
    const name = exact.get(said);
    if (name === 'LaunchRequest') return { type: 'LaunchRequest' };
    if (name !== undefined) return { type: 'IntentRequest', intent: name, slots: {} };
    for (const pattern of patterns) {
      const m = pattern.regex.exec(said);
      if (!m) continue;
      const resolvers = slotTypes.get(pattern.intent);
      const slots: Record<string, { heard: string; resolved?: string }> = {};
      pattern.slots.forEach((slot, i) => {
        const heard = m[i + 1];
        const resolved = resolvers?.get(slot)?.get(heard);
        slots[slot] = resolved === undefined ? { heard } : { heard, resolved };
      });
      return { type: 'IntentRequest', intent: pattern.intent, slots };
    }
    return undefined;
  };
}
