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
  },
  {
    "email": "user5@example.com",
    "id": 5
  },
  {
    "email": "user6@example.com",
    "id": 6
  },
  {
    "email": "user7@example.com",
    "id": 7
  },
  {
    "email": "user8@example.com",
    "id": 8
  },
  {
    "email": "user9@example.com",
    "id": 9
  },
  {
    "email": "user10@example.com",
    "id": 10
  },
  {
    "email": "user11@example.com",
    "id": 11
  },
  {
    "email": "user12@example.com",
    "id": 12
  },
  {
    "email": "user13@example.com",
    "id": 13
  },
  {
    "email": "user14@example.com",
    "id": 14
  },
  {
    "email": "user15@example.com",
    "id": 15
  },
  {
    "email": "user16@example.com",
    "id": 16
  },
  {
    "email": "user17@example.com",
    "id": 17
  },
  {
    "email": "user18@example.com",
    "id": 18
  },
  {
    "email": "user19@example.com",
    "id": 19
  },
  {
    "email": "user20@example.com",
    "id": 20
  },
  {
    "email": "user21@example.com",
    "id": 21
  },
  {
    "email": "user22@example.com",
    "id": 22
  },
  {
    "email": "user23@example.com",
    "id": 23
  },
  {
    "email": "user24@example.com",
    "id": 24
  },
  {
    "email": "user25@example.com",
    "id": 25
  }
]
