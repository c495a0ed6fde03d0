// Material's search worker, with one fix to lunr. search-lazy.js starts this file instead of
// Material's worker and passes that worker's file name: search-lunr.js?bundle=search.<hash>.min.js.
//
// lunr 2.3.9 (its last release) keeps the index's words in a minimized automaton. To find states
// that can be merged, it gives each state a key: "1" or "0" (the state ends a word or not), then
// for each edge its character followed by the target state's number. Nothing separates the
// number from the next character, so an edge "0" to state 12 followed by an edge "2" to state 5
// ("0012" + "25") gives the same key as an edge "0" to state 1 followed by an edge "2" to state
// 25 ("001" + "225"). Words with digits then merge states that differ, and the automaton holds
// words the index does not have: next to 평균=0 and 평균=1 it also holds 평균=00 and 평균=02.
// Material turns every query into a prefix query (평균 is searched as 평균*); when the prefix
// reaches such a word, lunr looks up its missing postings, throws, and Material shows no result
// at all. That is why 평균, 이동 평균 and 평균 분산 found nothing while 평균과 did.
//
// The key below ends each edge with a comma. An edge's character is one UTF-16 unit, so keys
// are equal only for states with the same edges to the same states.
(() => {
  const bundle = new URL(self.location.href).searchParams.get("bundle") || "";
  if (!/^search\.[0-9a-f]+\.min\.js$/.test(bundle)) throw new Error(`not a search worker: ${bundle}`);
  importScripts(bundle);
  self.lunr.TokenSet.prototype.toString = function () {
    if (this._str) return this._str;
    let key = this.final ? "1" : "0";
    for (const label of Object.keys(this.edges).sort()) key += label + this.edges[label].id + ",";
    return key;
  };
})();
