"""`kefu topic-terms`: the most frequent words of the buyer messages whose reception
fell into topic `other` (docs/metrics.md §12), so that a user can grow the seed
`seeds/question_topics.csv` with the words buyers actually use.

Words come from jieba's Chinese word segmentation; single characters, numbers,
punctuation and common function words are left out. The command reads the
warehouse (raw message text stays there) and prints words and counts only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import duckdb

# Words too common to name a topic (greetings, particles, pronouns).
STOPWORDS = frozenset(
    "我们 你们 他们 这个 那个 什么 怎么 可以 一下 就是 还是 没有 不是 一个 现在 已经 "
    "谢谢 好的 在吗 亲亲 你好 您好 嗯嗯 哈哈 请问 麻烦 这样 那么 然后 因为 所以 但是 如果 "
    "自己 的话 一点 有点 知道 觉得 需要 应该".split()
)
_WORDLIKE = re.compile(r"^[\w\u4e00-\u9fff]+$")
_NUMBER = re.compile(r"^[\d.]+$")

# Buyer messages of received receptions none of whose buyer messages holds a
# keyword of the seed: the receptions of topic `other` in question_topics_daily.
OTHER_MESSAGES_SQL = """
with
keywords as (
    select lower(keyword) as keyword from seeds.question_topics
    where keyword is not null and keyword <> ''
),
buyer_messages as (
    select shop_id, agent_id, buyer_id, biz_date, content
    from staging.stg_exports__messages
    where sender_role = 'buyer' and content is not null and content <> ''
),
received as (
    select shop_id, agent_id, buyer_id, biz_date
    from intermediate.int_receptions_filtered
    where not is_filtered
),
topical as (
    select distinct buyer_messages.shop_id, buyer_messages.agent_id,
        buyer_messages.buyer_id, buyer_messages.biz_date
    from buyer_messages
    inner join keywords on contains(lower(buyer_messages.content), keywords.keyword)
)
select buyer_messages.content
from buyer_messages
inner join received using (shop_id, agent_id, buyer_id, biz_date)
anti join topical using (shop_id, agent_id, buyer_id, biz_date)
where ? is null or buyer_messages.shop_id = ?
"""


def other_topic_messages(db_path: Path, shop_id: str | None = None) -> list[str]:
    """Texts of the buyer messages of `other` receptions (all shops, or one)."""
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no warehouse here (run kefu load and kefu build)")
    with duckdb.connect(str(db_path)) as con:
        rows = con.execute(OTHER_MESSAGES_SQL, [shop_id, shop_id]).fetchall()
    return [row[0] for row in rows]


def frequent_terms(texts: Iterable[str], top: int = 30) -> list[tuple[str, int]]:
    """The `top` most frequent words of the texts, by count, then by word."""
    import jieba

    jieba.setLogLevel(60)  # no "Building prefix dict" chatter on stderr
    counts: Counter[str] = Counter()
    for text in texts:
        for word in jieba.lcut(text):
            word = word.strip().lower()
            if len(word) < 2 or word in STOPWORDS:
                continue
            if not _WORDLIKE.match(word) or _NUMBER.match(word):
                continue
            counts[word] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


def format_terms(terms: list[tuple[str, int]], message_cnt: int) -> str:
    """Lines of `count<TAB>word`, under a header naming how many messages were read."""
    lines = [f"{message_cnt:,} buyer messages of topic other; most frequent words:"]
    lines += [f"{count}\t{word}" for word, count in terms]
    return "\n".join(lines)
