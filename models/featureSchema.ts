/**
 * The contract between the engine and a ranking model: which features, in which column, and the tensor
 * names and shapes the ONNX model must have. The engine writes candidates' features in exactly this order;
 * the scorer refuses a model whose inputs or outputs differ. Bump `version` on any change to the list.
 */
export const FEATURE_SCHEMA = {
  version: 'omakase-features/4',
  input: { name: 'features', dtype: 'float32' },
  output: { name: 'score', dtype: 'float32' },
  features: [
    'sim_query', // cosine(session query vector, item embedding)
    'sim_pos', // cosine(centroid of recent positives, item)
    'sim_neg', // cosine(centroid of recent negatives: dislikes, early skips)
    'sim_last', // cosine(last played item, item)
    'sim_intent', // cosine(starting intent vector, item); 0 without an intent
    'sim_steer', // cosine(current steering vector, item); 0 without steering
    'popularity', // log1p(popularity) / log1p(max popularity in catalog), in [0, 1]
    'transition', // co-occurrence/transition strength from the recent items, in [0, 1]
    'artist_pos', // tanh(positive outcomes with this artist in the session / 2)
    'artist_neg', // tanh(negative outcomes with this artist in the session / 2)
    'tag_pos', // share of the item's tags found in the session's positive tag profile, in [0, 1]
    'tag_neg', // same for the negative tag profile
    'same_artist_last', // 1 if the item's artist is the last played artist
    'year_gap', // |item year - mean year of positives| / 20, capped at 2; 0 when unknown
    'duration', // durationMs / 300000, capped at 3
    'src_ann', // 1 if retrieved by embedding neighbours of the query
    'src_transition', // 1 if retrieved by co-occurrence/transition neighbours
    'src_explore', // 1 if retrieved from the popular/fresh exploration pool
    'progress', // log1p(position in session) / log1p(1000), capped at 1
    'skip_rate', // share of skips among the last 10 outcomes
    'sknn', // session-kNN vote of the sessions most like this one, the session's best item scaled to 1
    'src_session', // 1 if retrieved by session-kNN
    'sr_last', // sequential-rule weight (1/gap, up to 10 plays) from the last play, scaled by its strongest rule
    'sr_prev', // the same from the play before the last: the candidate as the second or later play after it
    'sr_recent', // rules from the last 5 plays, the k-th newest weighing 1/k, scaled by the best candidate
    'ctx2', // share of the plays that followed the last two plays (in that order) that were this item
    'artist_recency', // 1 / plays since the item's artist was last heard (1 = the last play), 0 beyond 20
    'album_recency', // the same for the item's album
    'negative_run', // early skips and dislikes in a row at the end of the session, / 3, capped at 1
    'stan', // STAN vote (sequence-aware neighbour sessions, sequence-aware votes), the best candidate scaled to 1
    'src_artist', // 1 if retrieved as an item of the session's last four artists (quotas.artist)
  ],
} as const;

export type FeatureName = (typeof FEATURE_SCHEMA.features)[number];
export const FEATURE_COUNT = FEATURE_SCHEMA.features.length;

/** Column of a feature in a row; use it instead of a bare number so a schema change breaks loudly. */
export const FEATURE_INDEX: Readonly<Record<FeatureName, number>> = Object.fromEntries(
  FEATURE_SCHEMA.features.map((name, i) => [name, i]),
) as Record<FeatureName, number>;

/**
 * Earlier schemas the engine still serves: each one's columns are the first `width` of the current schema, so
 * the scorer passes a model of that schema the first `width` columns of every row (`models/default` is a
 * schema-3 model). A schema whose columns are not a prefix of the current one is refused.
 */
export const PREFIX_SCHEMAS: Readonly<Record<string, number>> = {
  'omakase-features/3': 29,
  [FEATURE_SCHEMA.version]: FEATURE_COUNT,
};

/** The columns a model of `version` reads (a prefix of the current schema's), or undefined if unsupported. */
export function schemaFeatures(version: string): readonly FeatureName[] | undefined {
  const width = PREFIX_SCHEMAS[version];
  return width === undefined ? undefined : FEATURE_SCHEMA.features.slice(0, width);
}
