/**
 * Steering from the feed page: mood chips (from `/api/moods`), free text (read by `/api/steer`), and the
 * card buttons' steers, all sent through the page's client; the pressed chip shows the mood in force.
 */
import type { OmakaseClient } from '../client/omakaseClient.ts';
import type { WireSteer } from '../protocol.ts';
import { $ } from './pageElements.ts';
import { reported, say, showError } from './statusLine.ts';

export interface Steering {
  /** Sends a steer; `label` says what it asked for once the server has it. */
  steer(s: WireSteer, label: string): void;
  /** Fills the mood chips (hidden when there are none). */
  loadMoods(): Promise<void>;
}

/** Wires the free-text form; `client` is the page's current client, if any. */
export function createSteering(client: () => OmakaseClient | undefined): Steering {
  function steer(s: WireSteer, label: string): void {
    const c = client();
    if (!c) return;
    reported(c.steer(s).then(() => say(`Steering: ${label}.`)));
    for (const chip of document.querySelectorAll('#moods .chip')) {
      const on = s.kind === 'mood' && (chip as HTMLElement).dataset.mood === s.tag;
      chip.setAttribute('aria-pressed', String(on));
    }
  }

  async function loadMoods(): Promise<void> {
    try {
      const res = await fetch('/api/moods');
      const body = (await res.json()) as { moods?: string[] };
      const group = $('moods');
      for (const mood of body.moods ?? []) {
        const chip = document.createElement('button');
        chip.type = 'button';
        chip.className = 'chip';
        chip.textContent = mood;
        chip.dataset.mood = mood;
        chip.setAttribute('aria-pressed', 'false');
        chip.addEventListener('click', () => steer({ kind: 'mood', tag: mood }, mood));
        group.append(chip);
      }
      if ((body.moods ?? []).length > 0) {
        const clear = document.createElement('button');
        clear.type = 'button';
        clear.className = 'chip';
        clear.textContent = 'clear steering';
        clear.addEventListener('click', () => steer({ kind: 'clear' }, 'cleared'));
        group.append(clear);
      } else {
        group.hidden = true;
      }
    } catch {
      $('moods').hidden = true;
    }
  }

  $('steer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('steer-text');
    const text = input.value.trim();
    if (!text) return;
    try {
      const res = await fetch(`/api/steer?text=${encodeURIComponent(text)}`);
      const body = (await res.json()) as { steer?: WireSteer; error?: { code: string; message: string } };
      if (body.error || !body.steer) return showError(body.error ?? { code: 'WEB_NO_MATCH', message: text });
      steer(body.steer, text);
      input.value = '';
    } catch (err) {
      showError({
        code: 'WEB_FETCH_FAILED',
        message: `Could not read the steering text (${(err as Error).message}).`,
      });
    }
  });

  return { steer, loadMoods };
}
