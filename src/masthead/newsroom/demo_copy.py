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

# The rest of each shorter piece: long enough that the demo's two-block preview shows less
# than a third of every article (tests/newsroom/test_demo.py pins it).
MORE_PARAGRAPHS: dict[str, list[str]] = {
    "ferry-route-reopens-after-three-years": [
        "The route closed three years ago when the previous operator lost its licence after a dispute over harbour fees. Two tenders failed before the current operator, a cooperative of island hauliers, agreed terms with both ports.",
        "Fares are lower than before the closure for residents of the islands, who receive a discount card, and slightly higher for everyone else. Cabins must be booked in advance; deck seats can be bought on the quay.",
        "Harbour staff in Lindhavn said the first arrival was eleven minutes late, which they blamed on a slow start to loading rather than the weather.",
        "For now the ship sails four nights a week. The cooperative says a daily service depends on a second vessel, which it hopes to lease before the summer.",
    ],
    "mountain-villages-vote-on-water-plan": [
        "The dispute has split families as well as villages. In Oberkessel, where most of the flooded land would lie, posters against the plan hang beside ones in favour on the same street.",
        "Supporters point to the valley's shrinking school rolls and say a share of the lowland money would keep young families from leaving. The plan sets aside a fund for the villages that its backers say would be worth more than the fields.",
        "Whatever the result, the regional water authority says it will need at least four years to design and build the new dam, and that construction could not begin before a full environmental review.",
    ],
    "border-crossing-queues-ease": [
        "The crossing handles about two thousand lorries a day, more than double the number it was built for. Drivers had reported waits of up to nine hours during the autumn harvest.",
        "The four new lanes are reserved for vehicles whose paperwork has been filed electronically before arrival. Officials say about a third of hauliers already use the system and expect more to join.",
        "Haulage associations welcomed the change but warned that the car park on the far side of the border is still too small, forcing drivers to queue on the hard shoulder.",
        "A second phase, which would add scanners able to inspect a container without unloading it, is due to be completed next year.",
    ],
    "shipping-rates-slip-as-capacity-returns": [
        "Brokers say the fall has been steepest on routes between the large Asian ports and northern Europe, where several new vessels have entered service this quarter.",
        "Shippers who signed long contracts at last year's peak are now trying to renegotiate them. Carriers have so far resisted, pointing to higher fuel and insurance costs.",
        "Analysts expect rates to stabilise in the spring, when seasonal demand usually picks up, unless more idle vessels return to service.",
    ],
    "regional-bank-holds-rates": [
        "Inflation in the region fell to 3.1 per cent last month, its lowest level in two years, but prices for services such as rents and repairs are still rising quickly.",
        "The bank's governor told reporters that cutting too early would risk undoing the progress made so far, and that the board wanted to see several more months of data.",
        "Markets had expected the decision. Bond yields were little changed, and the currency edged higher against the euro after the announcement.",
        "The next meeting is in six weeks. Two of the seven board members voted for a cut of a quarter of a point, up from one at the previous meeting.",
    ],
    "family-firm-bets-on-repair": [
        "Orders have grown every year since the switch, though the firm still earns less than it did when it made new appliances. Its owners say the margins are better and the work steadier.",
        "Finding staff is the hardest part. Repair takes patience and a broad knowledge of old models, and the firm now trains its own apprentices over three years.",
        "Manufacturers are not always helpful. Spare parts for some machines are sold only to approved dealers, and the firm has lobbied for rules that would require them to be sold to anyone.",
    ],
    "ports-of-tomorrow-sponsored": [
        "Scheduling software matches each arriving vessel to a berth and a crane crew before it leaves its previous port, rather than when it appears on the horizon.",
        "Terminals that use it report that ships spend fewer hours at anchor, which cuts fuel use and emissions as well as costs.",
        "The systems depend on shipping lines sharing accurate arrival times, which not all of them do. Ports are experimenting with discounts for lines that report reliably.",
        "Several terminals in the region plan to link their systems next year, so that a ship delayed at one port can be rescheduled at the next automatically.",
    ],
    "city-council-open-source": [
        "The council spends about four million a year on software licences. Officials expect the change to save a quarter of that once the transition is complete.",
        "Staff will be trained in small groups over eighteen months, starting with the departments that use office software least. The council's own developers will support the new systems.",
        "Critics on the council say similar projects elsewhere have run over budget and been partly reversed. The administration says it has learned from them and will publish its costs every quarter.",
        "The code the council writes for its own services will be published so that other towns can reuse it.",
    ],
    "chip-plant-water-questions": [
        "Making chips requires very pure water in large quantities. The company says the plant will recycle most of what it uses, but it has not yet published detailed figures.",
        "Farmers in the area have faced restrictions on irrigation in three of the last five summers. Their association has asked the regional government for guarantees before permits are granted.",
        "The plant would employ about two thousand people when complete, and the government has offered subsidies worth a fifth of its cost.",
        "A public consultation on the water permit opens next month and will run for eight weeks.",
    ],
    "encrypted-messaging-rules": [
        "Under the draft, providers would have to scan messages for illegal material before they are encrypted on the sender's device. Security researchers say that would weaken encryption for everyone.",
        "The interior ministry says the rules are narrowly drawn and would apply only under a court order. Privacy groups point out that the draft does not say how such an order would be limited.",
        "Two large messaging companies have said they would rather withdraw their services than comply. Lawmakers are expected to vote on amendments before the summer recess.",
    ],
    "libraries-lend-laptops": [
        "The scheme began with two hundred machines donated by local businesses. Within a fortnight every one was on loan, and the waiting list now runs to several hundred names.",
        "Librarians say most borrowers are students and job seekers who have a phone but no computer at home. Loans last three weeks and can be renewed once.",
        "The city has promised money for another five hundred laptops next year, along with evening classes for borrowers who have never used one.",
        "Other towns in the region have asked for advice on running similar schemes.",
    ],
    "opinion-patience-is-not-a-policy": [
        "Patience has its uses. It keeps channels open and avoids the kind of public falling-out that takes years to repair. But it is a posture, not a plan.",
        "A plan would say what Northmark wants from its neighbour, what it is prepared to offer, and what it will do if nothing moves. The government has said none of these things in public.",
        "Its allies have noticed. So, more importantly, have its hosts, who have every reason to wait for a better offer.",
        "The prime minister should use her next visit to say plainly what the overture is for. Otherwise the quiet diplomacy will be remembered only for being quiet.",
    ],
    "opinion-keep-the-night-trains": [
        "The night trains are not a nostalgic luxury. For many travellers they are the only way to reach the capital for a morning appointment without flying or driving through the night.",
        "The operator says the sleeper service loses money. So do many bus routes and rural stations that nobody proposes to close, because they serve people who have no other choice.",
        "Modest investment would help: newer carriages, better connections at either end and fares that can be booked as easily as a flight.",
        "Before the service is cut, the ministry should publish the figures and let passengers have their say.",
    ],
    "opinion-budget-small-print": [
        "The tax cut is worth a few hundred a year to a typical household. The reductions in local services will cost some of those same households more, in fees, in longer waits or in lost services.",
        "None of this is hidden, exactly. But it takes an afternoon with the annexes to find it, and most voters do not have one to spare.",
        "The finance ministry could publish a single table showing who gains and who loses from the whole package. It has the figures; it has chosen not to.",
        "Until it does, the cheering should wait.",
    ],
    "harbour-festival-returns": [
        "The festival was cancelled two years running because of repairs to the harbour wall. This year's programme is the largest since it began, with events on both sides of the water.",
        "The tall ships arrive on Friday morning and leave in a procession on Sunday afternoon, when the harbour master expects the quayside to be at its busiest.",
        "Food stalls run by local restaurants will line the fish market, and the maritime museum will open free of charge for both days.",
        "Volunteers are still needed to help with stewarding; the organisers say anyone interested should sign up at the harbour office.",
    ],
}

# The demo's illustrations: each article's picture is drawn for its subject (newsroom.demo),
# and its caption says what the picture shows.
PICTURES: dict[str, tuple[str, str]] = {
    "ferry-route-reopens-after-three-years": (
        "ferry",
        "Illustration: a white ferry with a red funnel crosses open water towards a headland under a pale evening sky.",
    ),
    "shipping-rates-slip-as-capacity-returns": (
        "container_ship",
        "Illustration: a container ship stacked with coloured boxes rides low in the water at sunset.",
    ),
    "family-firm-bets-on-repair": (
        "workshop",
        "Illustration: a workbench with a repaired radio, a screwdriver and a row of hanging tools in a sunlit workshop.",
    ),
    "ports-of-tomorrow-sponsored": (
        "terminal",
        "Illustration: gantry cranes over rows of stacked containers at a busy terminal in daylight.",
    ),
    "city-council-open-source": (
        "city",
        "Illustration: a city skyline at dusk with lit office windows and a town hall clock tower.",
    ),
    "harbour-festival-returns": (
        "tall_ships",
        "Illustration: three tall ships with white sails and bunting moored along an old harbour wall.",
    ),
}
ANALYSIS_PICTURE = "harbour"
