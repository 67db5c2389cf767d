"""Payment gateway adapters: each implements the application's PaymentGateway port for one provider."""
