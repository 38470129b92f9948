"""Original demo copy for The Meridian Review. Every country, person and company is fictional."""
# ruff: noqa: E501  (prose: one paragraph per line reads better than split strings)

from __future__ import annotations

from typing import Any

# (name, role, bio)
AUTHORS = [
    (
        "Ilse Varga",
        "Diplomatic correspondent",
        "Ilse covers treaties, summits and the people who stall them.",
    ),
    (
        "Tomas Okafor",
        "Business editor",
        "Tomas writes about trade, shipping and the money behind both.",
    ),
    (
        "Mira Castellan",
        "Technology correspondent",
        "Mira reports on software, chips and the rules that govern them.",
    ),
    ("Paul Renner", "Columnist", "Paul writes a weekly column on politics and public life."),
    (
        "Noor Haddad",
        "Economics correspondent",
        "Noor follows central banks, prices and household budgets.",
    ),
    (
        "Partner Studio",
        "Sponsored content",
        "Our partner studio produces commissioned content. The newsroom is not involved.",
    ),
]

SECTIONS = [
    ("World", "Reporting and analysis from our correspondents abroad."),
    ("Business", "Markets, companies and the economy."),
    ("Technology", "How software, hardware and networks are changing work and politics."),
    ("Opinion", "Columns and commentary from our writers."),
]

SPONSOR = {
    "name": "Halcyon Maritime",
    "url": "https://halcyon-maritime.example",
    "disclosure": "This content was commissioned by Halcyon Maritime's Global Trade Desk. "
    "It was produced by our partner studio, not by the newsroom.",
}

# The analysis piece shaped like the capture: dateline, hero with caption and credit, three
# subheadings, 900+ words. Blocks are (type, value) pairs.
ANALYSIS: dict[str, Any] = {
    "slug": "northmark-overture-to-valdoria",
    "section": "World",
    "title": "Northmark's patient overture to Valdoria wins it few friends in either capital",
    "standfirst": "Prime Minister Henrike Aalto is betting that quiet visits and a stalled "
    "fisheries pact can reopen a frozen relationship. Her hosts are unimpressed, and her allies "
    "are puzzled.",
    "dateline": "Valdgrad",
    "authors": ["Ilse Varga"],
    "access_level": "metered",
    "hero": ("Harbour cranes at dusk", (38, 52, 84), (196, 120, 64)),
    "hero_caption": "Cranes idle at the eastern harbour of Valdgrad, where Northmark hopes to "
    "reopen a ferry route, on March 3.",
    "hero_credit": "© Meridian Photo",
    "tags": ["Northmark", "Valdoria", "Diplomacy"],
    "hours_ago": 5,
    "body": [
        (
            "paragraph",
            "Northmark's prime minister has spent the better part of a year trying to coax Valdoria back to the negotiating table, and so far she has little to show for it beyond polite communiqués and a growing pile of unanswered letters.",
        ),
        (
            "paragraph",
            "Officials in Valdgrad describe the effort as earnest but naive, while diplomats from Northmark's traditional partners quietly ask why a small, prosperous democracy is spending so much political capital on a neighbour that has shown no appetite for compromise.",
        ),
        ("subheading", "An empty hand"),
        (
            "paragraph",
            "The centrepiece of Henrike Aalto's plan is a fisheries agreement that lapsed four winters ago. Under the old terms, boats from both countries shared the cold waters of the Serin Shelf, and a joint commission set quotas each spring. When the commission stopped meeting, trawlers from Valdoria moved into grounds that Northmark regards as its own, and coast guard vessels from both sides began shadowing one another in a slow, expensive dance.",
        ),
        (
            "paragraph",
            "Aalto's aides say a renewed pact would lower the temperature and give both governments a reason to keep talking. The difficulty is that Northmark has very little to offer in return. Its market is small, its fishing fleet is ageing, and its parliament has already ruled out the one concession Valdgrad has asked for in public: lifting the import duties placed on Valdorian timber after a dispute over forestry subsidies.",
        ),
        (
            "paragraph",
            "A senior Valdorian trade official, speaking on condition that he not be named, put it bluntly over coffee in a government canteen. Northmark, he said, wants the benefits of friendship without paying the membership fee. His ministry sees no reason to hurry. The longer the shelf goes unregulated, the more its own boats catch.",
        ),
        (
            "paragraph",
            "There are signs that the Valdorian government has drawn firm conclusions from Northmark's recent choices. In the spring, Aalto declined an invitation to a regional forum hosted in Valdgrad, pointing to a clash with a long-planned visit to her country's largest trading partner. Valdorian commentators read the decision as proof that Northmark would never step out of line with its larger allies, however warm its words.",
        ),
        (
            "paragraph",
            "Since then, the tone in Valdgrad has cooled further. State broadcasters have run unflattering segments about Northmark's fishing inspectors, and a planned exchange of university students was postponed without explanation. None of these steps is dramatic on its own. Together they suggest a government content to wait.",
        ),
        ("subheading", "Lost in translation"),
        (
            "paragraph",
            "Northmark's diplomats insist the picture is brighter than it looks. They point to a working group on ferry safety that met twice this autumn, and to the reopening of a consulate in the port city of Orsk that had been shuttered for budget reasons. They also note that Aalto's foreign minister has spoken to his Valdorian counterpart more often this year than in the previous three combined.",
        ),
        (
            "paragraph",
            "Yet even some of those involved concede that frequent contact is not the same as progress. One participant in the ferry talks described sessions in which both delegations read prepared statements, thanked each other for their candour, and agreed to meet again. The minutes, he said, could have been written before anyone arrived.",
        ),
        (
            "paragraph",
            "Part of the problem is that the two sides want different things from the conversation. For Northmark, dialogue is the goal: a way of keeping channels open in case a crisis at sea needs to be defused quickly. For Valdoria, dialogue is a tool, useful mainly for showing other governments that it is not isolated and that its smaller neighbour still comes calling.",
        ),
        (
            "paragraph",
            "Analysts in the region compare Northmark's position to that of other small states that have tried to act as a bridge between rival blocs. The bridge, they note, tends to be walked on by both sides. A researcher at a policy institute in the capital said Valdoria had perfected the art of accepting gestures without returning them, and that each new overture from Aalto lowered the price of the next one.",
        ),
        (
            "paragraph",
            "The prime minister's supporters reject that reading. Engagement, they argue, costs little and could prevent a collision between patrol boats that nobody wants. They also point out that Northmark's fishing towns, which vote heavily for Aalto's coalition, are the ones that suffer most when the shelf is left to the strongest fleet.",
        ),
        ("subheading", "Caught between partners"),
        (
            "paragraph",
            "The harder audience may be Northmark's friends. Its two largest allies have made clear, in private and increasingly in public, that they regard Valdoria's conduct on the shelf as part of a broader pattern of pressure on its neighbours. Officials from one allied capital have told their Northmark counterparts that a high-profile visit by Valdoria's president to Northmark, which Aalto has floated, would send the wrong signal at the wrong time.",
        ),
        (
            "paragraph",
            "During a visit to Northmark in the autumn, the foreign minister of the largest of those allies reportedly urged Aalto to wait until the fisheries dispute had been settled on terms that respected existing boundaries. Rewarding Valdgrad with a state visit first, the minister is said to have argued, would encourage similar tactics elsewhere along the coast.",
        ),
        (
            "paragraph",
            "Valdoria, meanwhile, has been busy. Its navy has announced exercises with a distant partner in waters close to the shelf next month, and its president has accepted an invitation to a ceremony abroad that Northmark's allies plan to boycott. Each move underlines how little the relationship with Northmark weighs in Valdgrad's calculations.",
        ),
        (
            "paragraph",
            'Opposition politicians in Northmark have seized on the mismatch. The leader of the largest opposition party told parliament last week that the government was "knocking on a door that has been bricked up from the inside" and called for a review of the policy before the summer recess. Aalto\'s office responded that patience was not the same as weakness.',
        ),
        (
            "paragraph",
            "For now, the prime minister appears determined to press on. Her officials are drafting a revised fisheries proposal that would phase in quotas over five years rather than three, and they are exploring whether a neutral third country could host a technical meeting early next year. Whether Valdgrad will send anyone senior is an open question.",
        ),
        (
            "paragraph",
            "Diplomats in the region expect the issue to resurface at the coastal states' summit that Northmark will chair next spring. If the shelf is still unregulated by then, Aalto will face an awkward choice between pressing her allies to accept a softer line and conceding that her overture has failed. Either way, the summit is likely to be remembered less for its agenda than for who chose to sit at the table.",
        ),
        (
            "paragraph",
            "What happens on the Serin Shelf over the coming months may matter as much as anything said in Valdgrad or in Northmark's parliament. A single serious incident between patrol vessels could harden positions on both sides for years, while a quiet season at sea would give the prime minister something, at last, to point to.",
        ),
    ],
}

# Shorter pieces: (slug, section, title, standfirst, author, access level, tags, hours ago,
# paragraphs, optional dateline, hero colours or None, optional pull quote)
ARTICLES = [
    (
        "ferry-route-reopens-after-three-years",
        "World",
        "Coastal ferry route reopens after three years of wrangling",
        "The night crossing between Orsk and Lindhavn carried its first passengers on Tuesday, "
        "a rare piece of good news for the region's island towns.",
        "Ilse Varga",
        "free",
        ["Northmark", "Transport"],
        9,
        [
            "The first sailing left Orsk a few minutes after ten in the evening, its car deck half full of delivery vans and its lounges crowded with families who had waited years to make the trip without a long detour by road.",
            "Operators say they expect demand to grow through the spring as freight companies move lorries off the coastal highway, which has been closed twice this winter by landslides.",
            "Local councils on both sides of the strait have promised to review timetables after six months, and have asked the operator to publish punctuality figures every week.",
        ],
        "Orsk",
        ((20, 60, 90), (120, 180, 200)),
        None,
    ),
    (
        "mountain-villages-vote-on-water-plan",
        "World",
        "Mountain villages vote on a water plan that could divide them",
        "Residents of the Kessel valley will decide this weekend whether to share a reservoir "
        "with the lowland towns that need it most.",
        "Ilse Varga",
        "metered",
        ["Water", "Local government"],
        30,
        [
            "The reservoir above the valley has supplied eleven villages for more than a century. Engineers say it could supply twice as many homes if the dam were raised by four metres.",
            "Lowland mayors have offered to pay for the work and to cut water bills in the villages for twenty years. Opponents say the offer undervalues farmland that would be flooded.",
            "Polling stations open at eight on Saturday. A simple majority in each village is needed for the plan to proceed.",
        ],
        None,
        None,
        ("We are being asked to trade fields for pipes.", "A dairy farmer in the upper valley"),
    ),
    (
        "border-crossing-queues-ease",
        "World",
        "Queues ease at the northern border crossing as new lanes open",
        "Waiting times for lorries fell by half in the first week, customs officials said.",
        "Noor Haddad",
        "metered",
        ["Transport", "Trade"],
        52,
        [
            "Four additional inspection lanes opened on Monday at the busiest crossing between Northmark and its southern neighbour, after months of complaints from hauliers.",
            "Customs officials said average waits for freight had fallen from five hours to just over two, though they warned that the holiday season would test the new arrangements.",
            "Drivers' associations welcomed the change but asked for better rest facilities on the approach roads, where lorries still park on the verge overnight.",
        ],
        None,
        None,
        None,
    ),
    (
        "shipping-rates-slip-as-capacity-returns",
        "Business",
        "Container shipping rates slip as idle ships return to service",
        "Freight costs on the main northern routes fell for a sixth week as carriers brought "
        "mothballed vessels back into service.",
        "Tomas Okafor",
        "metered",
        ["Shipping", "Trade"],
        3,
        [
            "The benchmark index for a forty-foot container on the northern loop fell four per cent this week, its sixth consecutive decline, according to figures compiled by freight brokers.",
            "Carriers that laid up ships during last year's slowdown have been returning them to service faster than expected, adding capacity just as retailers finish their winter orders.",
            "Analysts expect rates to stabilise in the spring, when the first of several new large vessels ordered three years ago are due for delivery.",
            "Smaller exporters, who were hit hardest by last year's spike, say lower rates will help, but that reliability matters more to them than price.",
        ],
        None,
        ((10, 40, 60), (200, 160, 90)),
        None,
    ),
    (
        "regional-bank-holds-rates",
        "Business",
        "Regional central bank holds rates and signals patience",
        "Policymakers left borrowing costs unchanged and said they wanted more evidence that "
        "price rises were slowing before cutting.",
        "Noor Haddad",
        "free",
        ["Economy", "Interest rates"],
        20,
        [
            "The bank's policy committee voted seven to two to keep its main rate unchanged, with the two dissenters favouring a small cut.",
            "In a statement, the committee said that price growth had eased in recent months but that wage settlements remained high enough to keep it cautious.",
            "Markets had expected the decision, and bond yields moved little after the announcement.",
        ],
        None,
        None,
        None,
    ),
    (
        "family-firm-bets-on-repair",
        "Business",
        "A family firm bets its future on repairing what others throw away",
        "A third-generation appliance maker has turned its factory floor into a repair shop, "
        "and its order book is growing.",
        "Tomas Okafor",
        "subscribers",
        ["Manufacturing", "Small business"],
        75,
        [
            "For sixty years the company built washing machines in a brick factory on the edge of town. Two years ago it stopped building new ones altogether.",
            "Its workers now refurbish machines collected from households and landlords, replacing worn parts and selling them on with a three-year guarantee.",
            "The owners say margins are better than they were in manufacturing, and that customers who once bought on price now ask how long a machine will last.",
            "Competitors are watching closely. Two larger firms have approached the company about licensing its inspection process.",
        ],
        None,
        ((60, 80, 60), (220, 200, 150)),
        None,
    ),
    (
        "ports-of-tomorrow-sponsored",
        "Business",
        "How smarter scheduling is shortening the wait at busy ports",
        "Shipping lines and terminal operators are sharing arrival data to cut the time ships "
        "spend at anchor.",
        "Partner Studio",
        "free",
        ["Shipping", "Ports"],
        28,
        [
            "Ships waiting at anchor burn fuel, tie up crews and delay cargo. A growing number of terminals now ask carriers to share precise arrival times days in advance.",
            "With that information, berth planners can stagger arrivals so that ships steam more slowly and arrive just as a berth comes free.",
            "Operators using the approach report shorter waits and lower fuel bills, though they say the benefits depend on every carrier taking part.",
        ],
        None,
        ((15, 55, 95), (90, 170, 210)),
        None,
    ),
    (
        "city-council-open-source",
        "Technology",
        "A city council moves its services to open-source software",
        "The switch is meant to cut licence costs and make the council less dependent on a "
        "single supplier.",
        "Mira Castellan",
        "metered",
        ["Open source", "Local government"],
        6,
        [
            "The council's two thousand staff will move to open-source office tools and e-mail over the next eighteen months, starting with the planning department.",
            "Officials estimate savings of several million in licence fees over five years, though they expect to spend part of that on training and support.",
            "Unions have asked for guarantees that staff will not be penalised for slower work during the transition.",
        ],
        None,
        ((30, 30, 60), (120, 90, 200)),
        None,
    ),
    (
        "chip-plant-water-questions",
        "Technology",
        "A new chip plant raises questions about water in a dry region",
        "Planners approved the factory, but farmers downstream want guarantees that the river "
        "will not run short in summer.",
        "Mira Castellan",
        "metered",
        ["Semiconductors", "Water"],
        33,
        [
            "Chip factories use large amounts of ultra-pure water to rinse wafers between production steps. The plant approved this month would draw from the same river as hundreds of farms.",
            "The company says it will recycle most of the water it uses and has agreed to cut its draw during droughts.",
            "Farmers' groups say the promises should be written into the permit, with penalties if they are broken.",
        ],
        None,
        None,
        None,
    ),
    (
        "encrypted-messaging-rules",
        "Technology",
        "Lawmakers weigh new rules for encrypted messaging",
        "A draft bill would require messaging services to scan for illegal material. Security "
        "researchers say it cannot be done safely.",
        "Mira Castellan",
        "subscribers",
        ["Privacy", "Regulation"],
        48,
        [
            "The draft, published by the interior ministry, would oblige messaging apps to detect known illegal images before messages are encrypted.",
            "More than a hundred security researchers signed an open letter arguing that any such system would weaken encryption for every user.",
            "The ministry says it will consult on the text until the end of the month.",
        ],
        None,
        None,
        ("A lock with a spare key for the state is not a lock.", "From the researchers' letter"),
    ),
    (
        "libraries-lend-laptops",
        "Technology",
        "Public libraries start lending laptops, and demand outstrips supply",
        "A pilot scheme in three towns ran out of machines within a week.",
        "Mira Castellan",
        "free",
        ["Libraries", "Education"],
        90,
        [
            "Borrowers can take a laptop home for two weeks, renewable once, using their ordinary library card.",
            "Librarians say students and job seekers were the first to sign up, followed by older residents who wanted help with online forms.",
            "The scheme's organisers are now seeking donations of used machines from local businesses.",
        ],
        None,
        None,
        None,
    ),
    (
        "opinion-patience-is-not-a-policy",
        "Opinion",
        "Patience is not a foreign policy",
        "Waiting for a neighbour to change its mind can be wise. Waiting without a plan is not.",
        "Paul Renner",
        "metered",
        ["Diplomacy", "Northmark"],
        12,
        [
            "There is a respectable case for talking to governments we disagree with. Channels that stay open in calm weather are easier to use in a storm.",
            "But talks need a purpose, and the government has yet to explain what it would accept, what it would refuse, and what it would do if the other side simply kept saying nothing.",
            "A policy that cannot fail because it never defines success is not patience. It is drift.",
        ],
        None,
        None,
        None,
    ),
    (
        "opinion-keep-the-night-trains",
        "Opinion",
        "Keep the night trains running",
        "The sleeper service is losing money. It is also the best advert the railway has.",
        "Paul Renner",
        "free",
        ["Transport"],
        40,
        [
            "Every few years someone in the transport ministry discovers that the night train costs more to run than it earns, and every few years the public objects loudly enough to save it.",
            "The argument should be settled for good. The sleeper carries people who would otherwise fly, and it shows a generation of travellers that rail can be comfortable and even romantic.",
            "Fund it properly, market it well, and stop treating it as a line on a spreadsheet.",
        ],
        None,
        None,
        None,
    ),
    (
        "opinion-budget-small-print",
        "Opinion",
        "Read the budget's small print before you cheer",
        "The headline tax cut is real. So are the cuts to the services that pay for it.",
        "Noor Haddad",
        "subscribers",
        ["Economy", "Budget"],
        60,
        [
            "Finance ministers love a simple headline, and this year's budget has one: a cut in the basic rate of income tax.",
            "Buried in the annexes is the price. Grants to local councils will fall in real terms for the third year running, and the maintenance budget for schools is frozen.",
            "Voters are entitled to weigh the trade-off. They can only do so if it is stated plainly.",
        ],
        None,
        None,
        None,
    ),
    (
        "harbour-festival-returns",
        "World",
        "Harbour festival returns with tall ships and a new music stage",
        "Organisers expect record crowds at the waterfront this weekend.",
        "Ilse Varga",
        "free",
        ["Culture"],
        100,
        [
            "Eleven tall ships will be moored along the old harbour wall, and visitors will be able to board four of them.",
            "A second stage near the fish market will host local bands on both evenings.",
            "Roads around the harbour close at noon on Saturday; the council recommends arriving by bus or on foot.",
        ],
        None,
        ((90, 30, 40), (240, 190, 120)),
        None,
    ),
]

SPONSORED_SLUG = "ports-of-tomorrow-sponsored"
