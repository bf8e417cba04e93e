[
  {
    "email": "user1@example.com",
    "id": 1
  },
  {
    "email": "user2@example.com",
    "id": 2
  },
  {
    "email": "user3@example.com",
    "id": 3
  },
  {
    "email": "user4@example.com",
    "id": 4
  }
]
