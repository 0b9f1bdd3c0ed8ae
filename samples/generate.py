#!/usr/bin/env python3
"""Writes the sample datasets in this folder. Deterministic: same seed, same bytes. Run: python3 samples/generate.py"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261124)


def write(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def unique(make, count):
    seen, rows = set(), []
    while len(rows) < count:
        row = make()
        key = json.dumps(row, sort_keys=True)
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


# --- sentiment: prompt/completion, balanced, with clear cue words a tiny model can pick up ---
PRODUCTS = ["headphones", "blender", "backpack", "phone case", "desk lamp", "coffee maker", "keyboard", "water bottle",
            "running shoes", "tent", "monitor", "vacuum", "charger", "jacket", "novel", "board game"]
POSITIVE = ["I love this {p}.", "This {p} is excellent.", "Great {p}, works perfectly.", "Absolutely fantastic {p}.",
            "The {p} is amazing and well made.", "Best {p} I have ever bought.", "Wonderful {p}, highly recommend it."]
NEGATIVE = ["I hate this {p}.", "This {p} is terrible.", "Awful {p}, broke after a day.", "Completely useless {p}.",
            "The {p} is horrible and cheaply made.", "Worst {p} I have ever bought.", "Disappointing {p}, do not buy it."]
POS_TAIL = ["Shipping was fast.", "Five stars.", "Would buy again.", "My family loves it too.", "Worth every penny.", ""]
NEG_TAIL = ["Returning it.", "One star.", "Never again.", "Customer service ignored me.", "A waste of money.", ""]


def review(label):
    body = rng.choice(POSITIVE if label == "positive" else NEGATIVE).format(p=rng.choice(PRODUCTS))
    tail = rng.choice(POS_TAIL if label == "positive" else NEG_TAIL)
    text = f"{body} {tail}".strip()
    return {"prompt": f"Review: {text}\nSentiment:", "completion": f" {label}"}


def sentiment(count, unseen=frozenset()):
    """Balanced reviews; none whose prompt is in `unseen` (a held-out file shares no example with training)."""
    labels = ["positive", "negative"] * (count // 2)
    rng.shuffle(labels)
    rows, prompts = [], set(unseen)
    for label in labels:
        row = review(label)
        while row["prompt"] in prompts:
            row = review(label)
        prompts.add(row["prompt"])
        rows.append(row)
    return rows


train_sentiment = sentiment(200)
write("sentiment.jsonl", train_sentiment)
write("sentiment-valid.jsonl", sentiment(60, unseen={row["prompt"] for row in train_sentiment}))

# --- support-chat: multi-turn chat ---
SYSTEM = "You are a friendly support agent for Acme Cloud. Answer briefly and precisely."
ISSUES = [
    ("I can't log in to my account.", "Sorry about that! Please reset your password from the login page via 'Forgot password'. The reset link is valid for 30 minutes."),
    ("How do I upgrade my plan?", "Open Settings → Billing, choose the plan you want and confirm. The change applies immediately and is prorated."),
    ("My invoice shows a double charge.", "I'm sorry for the trouble. I've flagged the duplicate charge; a refund reaches your card within 5 business days."),
    ("How do I add a team member?", "Go to Settings → Team, click 'Invite', and enter their email. They get an invitation valid for 7 days."),
    ("The dashboard is very slow today.", "Thanks for reporting it. We are investigating elevated latency; you can follow updates on status.acme.example."),
    ("Can I export my data?", "Yes. Settings → Data → Export creates a ZIP of all your projects; we email you a download link when it is ready."),
    ("How do I enable two-factor authentication?", "Go to Profile → Security, click 'Enable 2FA' and scan the QR code with an authenticator app."),
    ("I want to cancel my subscription.", "I'm sorry to see you go. Settings → Billing → Cancel plan stops renewal; you keep access until the period ends."),
    ("Where can I find my API key?", "Open Settings → API keys and click 'Create key'. Copy it right away: it is shown only once."),
    ("My upload keeps failing.", "Files up to 512 MB are supported. Please check your connection and retry; if it fails again, send me the file name."),
]
FOLLOW_UPS = [
    ("Thanks! And how long does that take?", "Usually just a few minutes. If it takes longer, reply here and I'll check."),
    ("Is there a way to do it from the CLI?", "Yes: run `acme help` to see the matching command; every dashboard action has a CLI equivalent."),
    ("Will my teammates be notified?", "Only admins get an email notification; other members see the change the next time they sign in."),
]
NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kemal", "Lea", "Mo", "Nia", "Omar", "Pia"]


def conversation():
    question, answer = rng.choice(ISSUES)
    name = rng.choice(NAMES)
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Hi, this is {name}. {question}"},
                {"role": "assistant", "content": f"Hi {name}! {answer}"}]
    if rng.random() < 0.4:
        follow_q, follow_a = rng.choice(FOLLOW_UPS)
        messages += [{"role": "user", "content": follow_q}, {"role": "assistant", "content": follow_a}]
    return {"messages": messages}


write("support-chat.jsonl", unique(conversation, 120))

# --- polite-preferences: prompt / chosen (polite) / rejected (rude) ---
REQUESTS = ["Can you help me reset my password?", "Where is my order?", "Why was I charged twice?", "How do I change my email address?",
            "Your app crashed and I lost my work.", "Can I get a refund?", "The instructions are confusing.", "I need this fixed today.",
            "How do I delete my account?", "Can you explain the pricing?"]
POLITE = ["I'm sorry for the trouble! Let me help you with that right away.", "Thanks for reaching out. Here is what we can do:",
          "Happy to help! Could you share your order number so I can check?", "I understand how frustrating that is. Let's fix it together."]
RUDE = ["Read the FAQ.", "Not my problem.", "Figure it out yourself.", "We already answered this. Stop asking.", "Whatever. Try again later."]


# Requests only the validation file asks: it measures whether the reward model learned politeness, not the prompts.
HELD_OUT_REQUESTS = ["My package arrived damaged.", "Can I change my delivery address?", "The website keeps logging me out.",
                     "How long does a refund take?", "I was promised a call back and nobody called."]


def preference(requests=REQUESTS):
    request = rng.choice(requests)
    prefix = rng.choice(["", "Hello, ", "Hi there. ", "Quick question: "])
    return {"prompt": prefix + request, "chosen": rng.choice(POLITE), "rejected": rng.choice(RUDE)}


write("polite-preferences.jsonl", unique(preference, 120))
write("polite-preferences-valid.jsonl", unique(lambda: preference(HELD_OUT_REQUESTS), 40))

# --- ppo-prompts: prompts only, customer requests like those the politeness reward model learned on ---
TOPICS = ["my order", "my password", "a double charge", "my email address", "a refund", "the pricing", "my account",
          "the mobile app", "an invoice", "my subscription"]
ASKS = ["Quick question about {t}.", "Hello, I need help with {t}.", "Hi there. Something is wrong with {t}.",
        "Can you look into {t} for me?", "I'm unhappy about {t}."]
write("ppo-prompts.jsonl", unique(lambda: {"prompt": rng.choice(ASKS).format(t=rng.choice(TOPICS))}, 50) +
      [{"messages": [{"role": "system", "content": "Be warm and concise."},
                     {"role": "user", "content": f"Say something encouraging to {n}."}]} for n in NAMES[:14]])

# --- stories: plain text ---
HEROES = ["a small fox", "an old sailor", "a curious girl", "a shy robot", "a brave turtle", "a sleepy bear", "a young baker", "a clever crow"]
PLACES = ["in a quiet village", "at the edge of the forest", "on a windy island", "under a big bridge", "in a busy market", "near a frozen lake"]
EVENTS = ["found a glowing stone", "lost the way home", "made a new friend", "learned to whistle", "planted a tiny tree", "fixed a broken kite"]
ENDINGS = ["and everyone smiled.", "and slept well that night.", "and never forgot that day.", "and shared the story with friends."]


def story():
    return {"text": f"Once upon a time, {rng.choice(HEROES)} lived {rng.choice(PLACES)}. One morning, the hero "
                    f"{rng.choice(EVENTS)}. It was not easy, but step by step things got better, {rng.choice(ENDINGS)}"}


write("stories.jsonl", unique(story, 150))

# --- held-out files added later draw from their own generator, so the files above keep their bytes ---
held_out = random.Random(20261202)

# support-chat-valid: the same requests asked by customers whose names training never uses
VALID_NAMES = ["Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wen", "Yara"]


def held_out_conversation():
    question, answer = held_out.choice(ISSUES)
    name = held_out.choice(VALID_NAMES)
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Hi, this is {name}. {question}"},
                {"role": "assistant", "content": f"Hi {name}! {answer}"}]
    if held_out.random() < 0.4:
        follow_q, follow_a = held_out.choice(FOLLOW_UPS)
        messages += [{"role": "user", "content": follow_q}, {"role": "assistant", "content": follow_a}]
    return {"messages": messages}


write("support-chat-valid.jsonl", unique(held_out_conversation, 30))

# tickets: support tickets labelled like the reviews, in words the reviews never use (the LoRA recipe adapts the
# quickstart's review model to them)
TOPICS_T = ["my invoice", "the login page", "my refund", "the mobile app", "my upload", "the billing page", "my account",
            "the export", "my subscription", "the API key"]
SATISFIED = ["Thanks a lot, {t} works again and I am thrilled.", "I am so grateful, you sorted out {t} in minutes.",
             "Your agent was patient and kind about {t}. Delighted!", "Quick fix for {t}, I am impressed.",
             "Really pleased: {t} is solved and the answer was clear."]
UNHAPPY = ["I am furious, {t} is still broken after a week.", "Nobody answered about {t}. I am annoyed.",
           "Third time I ask about {t}, this is frustrating.", "Your agent was rude about {t}. Unacceptable.",
           "Still waiting on {t}, I feel ignored and upset."]
T_TAIL = ["", "Ticket closed.", "Sent from my phone.", "Regards, a customer."]


def ticket(label):
    text = held_out.choice(SATISFIED if label == "positive" else UNHAPPY).format(t=held_out.choice(TOPICS_T))
    text = f"{text} {held_out.choice(T_TAIL)}".strip()
    return {"prompt": f"Ticket: {text}\nSentiment:", "completion": f" {label}"}


def tickets(count, unseen=frozenset()):
    labels = ["positive", "negative"] * (count // 2)
    held_out.shuffle(labels)
    rows, prompts = [], set(unseen)
    for label in labels:
        row = ticket(label)
        while row["prompt"] in prompts:
            row = ticket(label)
        prompts.add(row["prompt"])
        rows.append(row)
    return rows


train_tickets = tickets(160)
write("tickets.jsonl", train_tickets)
write("tickets-valid.jsonl", tickets(60, unseen={row["prompt"] for row in train_tickets}))
