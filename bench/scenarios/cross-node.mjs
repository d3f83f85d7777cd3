/**
 * Scenario 6 (cross-node delivery) needs natter's scale-out (a broker between nodes), which does not exist
 * yet. The entry stays in the results so the gap is visible; no number is made up for it.
 */
export async function crossNode() {
  return {
    title: 'Cross-node delivery',
    status: 'pending scale-out issue',
    note: 'natter has no multi-node broker yet; this scenario is not measured (no figures, no ratios).',
  };
}
