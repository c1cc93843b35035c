import { rootCertificates } from 'node:tls';
import type { Catalog } from '../../engine/catalog.ts';
import type { SessionService } from '../../sessions/sessionService.ts';
import type { WireTrailer } from '../../sessions/wireTrailer.ts';
import { type AlexaHandlerOptions, createAlexaHandler, UNVERIFIED } from './alexaHandler.ts';
import { voiceError } from './errors.ts';
import { createRequestVerifier, type RequestVerifierOptions } from './requestVerifier.ts';
import { createVoiceRecording } from './voiceRecorder.ts';
import { createVoiceServer, type VoiceServer } from './voiceServer.ts';

export interface VoiceEndpointOptions {
  service: SessionService;
  catalog: Catalog;
  skillId: string;
  /** `https://…{id}…`: the URL of an item whose catalog row has no `streamUrl`. */
  streamUrlTemplate?: string;
  /** False runs without request verification (a local demo), with a warning at start. */
  verify: boolean;
  /** PEM text of extra trusted roots (a test PKI), beside Node's bundled Mozilla roots. */
  trustRootsPem?: string;
  port: number;
  host?: string;
  /** Lines for the operator (stdout); warnings go to `warn` (stderr). */
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Verifier hooks for tests (a certificate served without the network, a fixed clock). */
  verifier?: Pick<RequestVerifierOptions, 'fetchCert' | 'now'>;
  onError?: AlexaHandlerOptions['onError'];
  /** Writes the records of a request that ended its session (the `serve` app's `trailer`). */
  trailer?: WireTrailer;
}

/**
 * A `streamUrl` from a template: `{id}` becomes the URL-encoded item id.
 *
 * @example
 * streamUrlTemplate('https://cdn.example/{id}.mp3')('a b') // 'https://cdn.example/a%20b.mp3'
 */
export function streamUrlTemplate(template: string): (itemId: string) => string {
  if (!template.startsWith('https://') || !template.includes('{id}')) {
    throw voiceError(
      'VOICE_CONFIG_INVALID',
      `The stream URL template must be an https URL with {id} in it (got "${template}").`,
    );
  }
  return (itemId) => template.replaceAll('{id}', encodeURIComponent(itemId));
}

/**
 * The voice endpoint as `omakase serve` runs it: checks the settings (every item needs a stream URL, from
 * its catalog row or the template), builds the verifier, the handler and the HTTP server, and says how it
 * runs. Throws VOICE_CONFIG_INVALID for settings that cannot work.
 */
export async function startVoiceEndpoint(
  options: VoiceEndpointOptions,
): Promise<VoiceServer & { flushRecords(): Promise<void> }> {
  const { catalog, skillId } = options;
  const streamUrl =
    options.streamUrlTemplate === undefined ? undefined : streamUrlTemplate(options.streamUrlTemplate);
  if (!streamUrl) {
    const without = catalog.items.filter((item) => item.streamUrl === undefined).length;
    if (without > 0) {
      throw voiceError(
        'VOICE_CONFIG_INVALID',
        `${without} of ${catalog.size} catalog items have no streamUrl; set OMAKASE_STREAM_URL (--stream-url) to an https URL template with {id}.`,
      );
    }
  }
  let trustedRoots: readonly string[] | undefined;
  if (options.trustRootsPem !== undefined) {
    const extra = options.trustRootsPem.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    if (!extra) {
      throw voiceError('VOICE_CONFIG_INVALID', 'The trusted root file holds no PEM certificate.');
    }
    trustedRoots = [...rootCertificates, ...extra];
    options.warn(
      `omakase voice: trusting ${extra.length} extra root certificate(s) for request signatures (a test PKI); never in production.`,
    );
  }
  const verify = options.verify
    ? createRequestVerifier({ skillId, trustedRoots, ...options.verifier })
    : UNVERIFIED;
  // Every accepted request (redacted) and a hash of its answer ride on the session's log, for exact replay.
  const recording = createVoiceRecording({
    service: options.service,
    trailer: options.trailer,
    settings: { skillId, streamUrlTemplate: options.streamUrlTemplate, verified: options.verify },
  });
  const handler = recording.wrap(
    createAlexaHandler({
      service: recording.service,
      catalog,
      skillId,
      streamUrl,
      verify,
      warn: options.warn,
      onError: options.onError,
    }),
  );
  const server = await createVoiceServer({ handler, port: options.port, host: options.host });
  options.log(
    `voice (Alexa AudioPlayer) endpoint: ${server.url}, skill ${skillId}, requests ${options.verify ? 'verified' : 'NOT VERIFIED'}`,
  );
  // The last requests of each live session have no later call to ride on: written once sessions are closed.
  return Object.assign(server, { flushRecords: () => recording.flush() });
}
