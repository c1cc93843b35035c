import { STAN_DEFAULTS, type VstanOptions, VstanRecommender } from './vstanRecommender.ts';

/**
 * STAN, sequence- and time-aware neighbourhood (Garg et al., SIGIR 2019), as session-rec's `knn/stan.py`:
 * the recency of a play in the current session (λ_spw), of the neighbour session (λ_snh, days) and the
 * distance of a candidate from the neighbour's last shared item (λ_inh) weight SKNN's cosine neighbourhood.
 */
export class StanRecommender extends VstanRecommender {
  constructor(options: Partial<Omit<VstanOptions, 'lambdaIpw' | 'lambdaIdf' | 'similarity'>> = {}) {
    super({ ...options, lambdaIpw: 0, lambdaIdf: 0, similarity: 'cosine' }, 'stan', STAN_DEFAULTS);
  }
}
