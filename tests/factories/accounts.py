import factory
from allauth.account.models import EmailAddress

from accounts.models import User

PASSWORD = "a-long-test-password-9"


class UserFactory(factory.django.DjangoModelFactory):
    """A person who can sign in, with a verified primary email address."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"holder{n}@example.test")
    first_name = "Maria"
    last_name = factory.Sequence(lambda n: f"Lopez{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    class Params:
        staff = factory.Trait(is_staff=True)
