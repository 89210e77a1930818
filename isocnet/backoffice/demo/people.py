"""The demo ISP's price list and the names, streets and cities its
customers are made of."""

from __future__ import annotations

# code, name, description, price, cycle, setup fee, taxed (internet access is
# not taxed: US Internet Tax Freedom Act; hosting, IPs and domains are)
PLANS = [
    (
        "fiber-100",
        "Fiber 100 Mbps",
        "Symmetric fiber internet, 100 Mbps",
        "49.95",
        "monthly",
        "0.00",
        False,
    ),
    (
        "fiber-500",
        "Fiber 500 Mbps",
        "Symmetric fiber internet, 500 Mbps",
        "69.95",
        "monthly",
        "0.00",
        False,
    ),
    (
        "fiber-1000",
        "Fiber 1 Gbps",
        "Symmetric fiber internet, 1 Gbps",
        "89.95",
        "monthly",
        "99.00",
        False,
    ),
    (
        "static-ip",
        "Static IP address",
        "One static public IPv4 address",
        "10.00",
        "monthly",
        "0.00",
        True,
    ),
    (
        "hosting-basic",
        "Web Hosting Basic",
        "10 GB web hosting, 5 mailboxes, free TLS",
        "119.40",
        "annual",
        "0.00",
        True,
    ),
    (
        "hosting-business",
        "Web Hosting Business",
        "50 GB web hosting, 50 mailboxes, daily backups",
        "239.40",
        "annual",
        "0.00",
        True,
    ),
    (
        "domain-com",
        "Domain renewal (.com)",
        "Annual .com domain registration",
        "18.99",
        "annual",
        "0.00",
        True,
    ),
    (
        "email-pro",
        "Business Email",
        "Hosted business email, per mailbox",
        "15.00",
        "quarterly",
        "0.00",
        True,
    ),
    (
        "backup-offsite",
        "Offsite Backup 100 GB",
        "Encrypted offsite backup",
        "59.94",
        "semiannual",
        "0.00",
        True,
    ),
    (
        "install",
        "Professional installation",
        "On-site installation by a technician",
        "99.00",
        "one_time",
        "0.00",
        True,
    ),
]


FIRST = [
    "Alice",
    "Bob",
    "Carmen",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ingrid",
    "José",
    "Kwame",
    "Łukasz",
    "Maya",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
]


LAST = [
    "Example",
    "Anderson",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hoang",
    "Ivanova",
    "Jackson",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Nakamura",
    "O'Connor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vargas",
    "Weber",
    "Young",
    "Zieliński",
]


COMPANIES = [
    "",
    "",
    "",
    "Acme Bakery LLC",
    "Riverside Dental",
    "Blue Fern Studio",
    "Northgate Realty",
    "Summit Auto Repair",
    "Lakeside Books",
    "Harbor Yoga",
]


STREETS = [
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Washington Blvd",
    "Lincoln Rd",
    "Park Pl",
]


CITIES = [
    ("Springfield", "IL", "62701"),
    ("Decatur", "IL", "62521"),
    ("Champaign", "IL", "61820"),
    ("Peoria", "IL", "61602"),
    ("Bloomington", "IL", "61701"),
]
