package logging

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for key, want := range map[string]class{
		"account": cardNumber, "Account": cardNumber, "refund_account": cardNumber, "acc": cardNumber,
		"cardid": cardNumber, "card_id": cardNumber, "cardId": cardNumber, "CardID": cardNumber, "card-id": cardNumber,
		"card.id": cardNumber, "SNo": cardNumber, "s_no": cardNumber, "MSCard": cardNumber, "SCardNum": cardNumber,
		"BankAcc": cardNumber, "card2": cardNumber, "phone_number": cardNumber, "id_no": cardNumber, "IDNo": cardNumber,
		"card_holder": personName, "max_per_card_day": plain, "card_max_age": plain, "card_type": plain, "acc_type": plain,
		"account_count": plain, "card_lost": plain, "account_state": plain, "cardType": plain,
		"barcode_bytes": cardNumber, "account_raw": cardNumber, "name_masked": personName, "card_name": personName,
		"name": personName, "Name": personName, "custname": personName, "holder_name": personName,
		"token": secret, "access_token": secret, "accessToken": secret, "AccessToken": secret, "app_secret": secret,
		"AppSecret": secret, "APPSecret": secret, "key": secret, "app_key": secret, "private_key": secret,
		"Authorization": secret, "password": secret, "Pwd": secret, "pin": secret, "PIN": secret, "pin_hash": secret,
		"PINHash": secret, "status.token": secret,
		"order_no": plain, "OrderNo": plain, "out_id": plain, "OutID": plain, "refund_order_no": plain, "IDType": plain,
		"id_type": plain, "amount": plain, "method": plain, "termid": plain, "mercacc": plain, "state": plain,
		"shipping": plain, "": plain, "__": plain, "id": plain,
	} {
		assert.Equal(t, want, classify(key), "%q", key)
	}
	assert.Equal(t, 0.0, testing.AllocsPerRun(10, func() { classify("refund_order_no") }))
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"OrderNo": "order_no", "OutID": "out_id", "IDType": "id_type", "SCardNum": "s_card_num", "LastError": "last_error",
		"Account": "account", "A": "a", "": "",
	} {
		assert.Equal(t, want, snake(in), "%q", in)
	}
}
